"""`llmtap ui`: a local, read-only web page over the store.

`server` answers the page and a small JSON API; `queries` holds the store reads behind it;
`static/` is the page itself (plain HTML, CSS and JavaScript modules, with uPlot vendored
for the charts), shipped in the package so nothing is built at install time.
"""
