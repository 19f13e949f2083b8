// GOV.UK page template body-class snippet, as an external classic script so
// that a strict Content-Security-Policy (no inline scripts) is possible.
// Load it synchronously as the first child of <body>:
//   <script src="{% static 'js/govuk-body-classes.js' %}"></script>
// `js-enabled` hides content meant only for users without JavaScript, and
// `govuk-frontend-supported` tells GOV.UK Frontend that the browser supports
// ES modules (the same test as the GOV.UK template's inline snippet).
(function () {
  'use strict'
  var body = document.body
  if (!body) {
    return
  }
  body.className +=
    ' js-enabled' +
    ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '')
})()
