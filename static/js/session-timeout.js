// Session timeout warning (WCAG 2.2 SC 2.2.1), after HMRC's pattern: two minutes
// before the idle timeout a modal dialog says so and offers to stay signed in. Every
// saved answer is already stored, so ending the session loses nothing.
//
// A session also ends a fixed time after the link was opened, however active the person
// is (the absolute limit, for security). Staying signed in cannot move that end, so when
// it comes first the dialog says when it will happen and how to carry on: open the
// link again, which starts a new session with every answer still there.
const config = document.getElementById('session-timeout')

if (config && typeof HTMLDialogElement === 'function') {
  const timeoutMs = Number(config.dataset.timeoutSeconds) * 1000
  const warnBeforeMs = Math.min(120000, timeoutMs / 2)
  const absoluteEndsAt = Date.now() + Number(config.dataset.sessionLeftSeconds) * 1000
  const keepAliveUrl = config.dataset.keepAliveUrl
  const endedUrl = config.dataset.endedUrl
  const csrfInput = document.querySelector('input[name="csrfmiddlewaretoken"]')
  let warnTimer
  let endTimer
  let countdownTimer

  const dialog = document.createElement('dialog')
  dialog.className = 'app-timeout-dialog'
  dialog.setAttribute('aria-labelledby', 'timeout-heading')
  dialog.setAttribute('aria-describedby', 'timeout-message')
  dialog.innerHTML =
    '<h2 class="govuk-heading-m" id="timeout-heading">You are about to be signed out</h2>' +
    '<p class="govuk-body" id="timeout-message">For your security, we will sign you out in ' +
    '<strong class="js-timeout-countdown">2 minutes</strong>. Your saved answers are kept.</p>' +
    '<div class="govuk-button-group">' +
    '<button type="button" class="govuk-button js-timeout-stay">Stay signed in</button>' +
    '<a class="govuk-link js-timeout-leave" href="' + endedUrl + '">Sign out</a></div>'
  document.body.appendChild(dialog)
  const heading = dialog.querySelector('#timeout-heading')
  const message = dialog.querySelector('#timeout-message')
  const stayButton = dialog.querySelector('.js-timeout-stay')
  let final = false
  let finalDismissed = false

  // The absolute end: the same dialog, saying the session cannot be extended.
  const becomeFinal = () => {
    final = true
    heading.textContent = 'You will be signed out soon'
    message.innerHTML =
      'For your security, we sign everyone out ' + config.dataset.sessionMaxHours +
      (config.dataset.sessionMaxHours === '1' ? ' hour' : ' hours') +
      ' after they open their link. ' +
      'We will sign you out in <strong class="js-timeout-countdown"></strong>. ' +
      'Your saved answers are kept: to carry on, open the link in your email again.'
    stayButton.textContent = 'Continue for now'
  }

  const describe = (ms) => {
    const seconds = Math.max(0, Math.round(ms / 1000))
    if (seconds >= 60) {
      const minutes = Math.ceil(seconds / 60)
      return minutes + (minutes === 1 ? ' minute' : ' minutes')
    }
    return seconds + (seconds === 1 ? ' second' : ' seconds')
  }

  const schedule = () => {
    clearTimeout(warnTimer)
    clearTimeout(endTimer)
    clearInterval(countdownTimer)
    const idleEndsAt = Date.now() + timeoutMs
    const endsAt = Math.min(idleEndsAt, absoluteEndsAt)
    if (endsAt === absoluteEndsAt && !final) becomeFinal()
    const show = () => {
      if (finalDismissed) return
      const counter = dialog.querySelector('.js-timeout-countdown')
      counter.textContent = describe(endsAt - Date.now())
      countdownTimer = setInterval(() => {
        counter.textContent = describe(endsAt - Date.now())
      }, 15000)
      dialog.showModal()
      stayButton.focus()
    }
    warnTimer = setTimeout(show, Math.max(0, endsAt - Date.now() - warnBeforeMs))
    endTimer = setTimeout(() => {
      window.location.href = endedUrl
    }, Math.max(0, endsAt - Date.now()))
  }

  const stay = async () => {
    if (final) {
      // Nothing to extend: the page stays usable until the end, then signs out.
      finalDismissed = true
      clearInterval(countdownTimer)
      dialog.close()
      return
    }
    const headers = { 'X-Requested-With': 'fetch' }
    if (csrfInput) headers['X-CSRFToken'] = csrfInput.value
    const response = await fetch(keepAliveUrl, {
      method: 'POST',
      headers,
      credentials: 'same-origin'
    })
    if (response.ok && !response.redirected) {
      dialog.close()
      schedule()
    } else {
      window.location.href = endedUrl
    }
  }

  stayButton.addEventListener('click', stay)
  // A background save (js/autosave.js) is activity: the server's idle timeout restarted.
  document.addEventListener('app:session-activity', () => {
    if (!dialog.open) schedule()
  })
  dialog.addEventListener('cancel', (event) => {
    event.preventDefault()
    stay()
  })
  schedule()
}
