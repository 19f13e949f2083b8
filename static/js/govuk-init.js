// Starts every GOV.UK Frontend component on the page (those with a data-module
// attribute). Load it with <script type="module" src="..."> at the end of
// <body>. Browsers without ES module support skip it, and then components
// keep their no-JavaScript behaviour. The import is relative, so it also
// works under any STATIC_URL.
import { initAll } from '../govuk-frontend/govuk-frontend.min.js'

initAll()
