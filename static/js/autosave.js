// Autosave: a change on a page's answers is saved in the background, so that nothing
// typed waits for "Save and continue". Progressive enhancement only: without this
// script (or on a form without data-autosave) the page saves on its buttons as before.
// The server saves what is valid so far and shows no errors; the buttons still check
// everything. Each reply carries the page's new signed state, the base that the next
// save merges from, so a person's own earlier autosave never looks like someone else's.
const form = document.querySelector('form[data-autosave]')
const status = document.querySelector('#autosave-status p')

if (form && status && typeof window.fetch === 'function') {
  const DELAY_MS = 800
  const TYPING_PAUSE_MS = 3000
  const stateInput = form.querySelector('input[name="state"]')
  const csrfInput = form.querySelector('input[name="csrfmiddlewaretoken"]')
  const clock = new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    timeZone: 'Europe/London'
  })
  // Everything on the page when it loaded was already stored.
  let savedAt = clock.format(new Date())
  let timer = null
  let dirty = false // a change not yet sent
  let inFlight = null
  let stopped = false // submitted, refused, or the session has ended

  const show = (text) => {
    status.textContent = text
    status.hidden = false
  }

  const handle = async (response) => {
    if (response.status === 401) {
      stopped = true
      show('Your session has ended. Your answers up to ' + savedAt + ' are saved.')
      return
    }
    const reply = await response.json().catch(() => null)
    if (response.ok && reply && reply.saved) {
      stateInput.value = reply.state
      savedAt = reply.saved_at
      show(
        reply.conflicts
          ? 'Someone else has changed this page. Select Save and continue to see their changes'
          : 'Saved at ' + reply.saved_at
      )
      document.dispatchEvent(new CustomEvent('app:session-activity'))
      return
    }
    if (response.status === 409 && reply) {
      stopped = true
      show(reply.reason)
      return
    }
    throw new Error('not saved')
  }

  const save = (leaving = false) => {
    clearTimeout(timer)
    timer = null
    // One save at a time: a change made meanwhile goes once this one has answered,
    // with the state it returns. Only when the page is going away is there no waiting.
    if (stopped || !dirty || (inFlight && !leaving)) return
    dirty = false
    const body = new URLSearchParams(new FormData(form))
    body.set('action', 'autosave')
    const headers = { Accept: 'application/json' }
    if (csrfInput) headers['X-CSRFToken'] = csrfInput.value
    // Not form.action: the buttons are named "action", which shadows it.
    inFlight = fetch(window.location.pathname + window.location.search, {
      method: 'POST',
      body,
      headers,
      credentials: 'same-origin',
      keepalive: leaving
    })
      .then(handle)
      .catch(() => {
        dirty = true
        show('Your latest changes have not been saved yet. Select Save and continue to save them')
      })
      .finally(() => {
        inFlight = null
        if (dirty && !stopped && !timer) timer = setTimeout(save, DELAY_MS)
      })
  }

  form.addEventListener('change', () => {
    dirty = true
    clearTimeout(timer)
    timer = setTimeout(save, DELAY_MS)
  })

  // Typing is saved too once the person pauses, so that a figure typed into a field they
  // never leave (a phone call, then the session ends) is not lost. A longer pause than
  // for a change, so that the page history does not fill with half-typed numbers.
  form.addEventListener('input', (event) => {
    if (!event.target.matches('input[type="text"], input[type="tel"], input[type="email"], input:not([type]), textarea')) return
    dirty = true
    clearTimeout(timer)
    timer = setTimeout(save, TYPING_PAUSE_MS)
  })

  form.addEventListener('submit', (event) => {
    clearTimeout(timer)
    dirty = false
    if (inFlight && !stopped) {
      // The explicit save must merge from the state the background save returns.
      event.preventDefault()
      const submitter = event.submitter
      inFlight.finally(() => {
        stopped = true
        form.requestSubmit(submitter)
      })
      return
    }
    stopped = true
  })

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') save(true)
  })
  window.addEventListener('pagehide', () => save(true))
}
