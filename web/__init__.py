"""The web app: a Dutch chat over the IVB documents with clickable, checked sources, and a
staff page behind a login that manages the documents.

A thin shell over assistant/ and ingest/. `layout` lays the page out and wires its events;
`chat` answers the chat and the API (one preparation step for both); `staff` handles the
staff page; `render` turns answers, sources and results into HTML; `turns` is the
conversation a browser session keeps; `page_images` draws a cited PDF page; `assets` holds
the stylesheet, theme and scripts. The entry point is ui.py (`ivb serve`, `python ui.py`).
"""
