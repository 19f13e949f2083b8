// Session timeout warning (WCAG 2.2 SC 2.2.1), after HMRC's pattern: two minutes
// before the idle timeout a modal dialog says so and offers to stay signed in. Every
// saved answer is already stored, so ending the session loses nothing.
const config = document.getElementById('session-timeout')

if (config && typeof HTMLDialogElement === 'function') {
  const timeoutMs = Number(config.dataset.timeoutSeconds) * 1000
  const warnBeforeMs = Math.min(120000, timeoutMs / 2)
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
  const countdown = dialog.querySelector('.js-timeout-countdown')

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
    const endsAt = Date.now() + timeoutMs
    warnTimer = setTimeout(() => {
      countdown.textContent = describe(endsAt - Date.now())
      countdownTimer = setInterval(() => {
        countdown.textContent = describe(endsAt - Date.now())
      }, 15000)
      dialog.showModal()
      dialog.querySelector('.js-timeout-stay').focus()
    }, timeoutMs - warnBeforeMs)
    endTimer = setTimeout(() => {
      window.location.href = endedUrl
    }, timeoutMs)
  }

  const stay = async () => {
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

  dialog.querySelector('.js-timeout-stay').addEventListener('click', stay)
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
