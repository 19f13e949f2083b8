// Answers inside a hidden conditional reveal (GOV.UK checkboxes: a channel not ticked)
// are left out of what the form sends, whether submitted or saved in the background
// (FormData fires the same event), so a figure typed before unticking its channel is
// neither saved nor an error. Without JavaScript every block shows and all is sent.
for (const form of document.querySelectorAll('form')) {
  form.addEventListener('formdata', (event) => {
    for (const field of form.querySelectorAll('.govuk-checkboxes__conditional--hidden [name]')) {
      event.formData.delete(field.name)
    }
  })
}
