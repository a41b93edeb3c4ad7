// The document viewer (web/documents.py serves it): pdf.js draws the cited PDF, opens it at
// the cited page and marks each of the citation's quotes in the text layer, also when one
// runs on to the next page. Other pages are drawn when they scroll into view. When pdf.js
// cannot load, the page image drawn by the server (the quotes boxed) stands in.
// Written here because pdf.js's own full viewer (web/viewer.html) is an application with
// its own toolbar, locale files and preferences; this page needs a page, a mark and a link.

const config = JSON.parse(document.getElementById('ivb-viewer-config').textContent);
const box = document.getElementById('ivb-viewer');
const status = document.getElementById('ivb-viewer-status');

const fold = (ch) => {
  if ('‘’‚′`´'.includes(ch)) return "'";
  if ('“”„″'.includes(ch)) return '"';
  if ('‐‑‒–—−'.includes(ch)) return '-';
  return ch.toLowerCase();
};

// Text folded for matching (as web/page_images.py find_span folds it), with each folded
// character's origin: [item index, offset in the item's string].
function foldItems(items) {
  const chars = [];
  const where = [];
  let space = true;
  items.forEach((item, i) => {
    const str = item.str;
    for (let k = 0; k < str.length; k++) {
      const ch = str[k];
      if (/\s/.test(ch) || ch === '\u00ad') {
        if (!space) { chars.push(' '); where.push([i, k]); space = true; }
        continue;
      }
      chars.push(fold(ch));
      where.push([i, k]);
      space = false;
    }
    // A line-end hyphen joins the word ("veilig-" + "heid"), as the reader joined it.
    if (item.eol && chars.length && chars[chars.length - 1] === '-') {
      chars.pop(); where.pop(); space = false;
    } else if (!space) {
      chars.push(' '); where.push([i, str.length]); space = true;
    }
  });
  return {hay: chars.join(''), where};
}

function foldQuote(quote) {
  return quote.replace(/[\s\u00ad]+/g, ' ').trim().split('').map(fold).join('');
}

// [start, end) in the folded text, or null: the whole quote, else its first and last
// five words (a header or page number between two pages, a hyphenated word).
function findQuote(hay, needle) {
  if (!needle) return null;
  const at = hay.indexOf(needle);
  if (at >= 0) return [at, at + needle.length];
  const words = needle.split(' ');
  if (words.length < 6) return null;
  const head = words.slice(0, 5).join(' ');
  const tail = words.slice(-5).join(' ');
  const start = hay.indexOf(head);
  if (start < 0) return null;
  const end = hay.indexOf(tail, start + head.length);
  return end < 0 ? [start, start + head.length] : [start, end + tail.length];
}

// Wraps each [from, to) of a text layer span in <mark> (runs sorted, not overlapping).
function markSpan(span, runs) {
  const str = span.textContent;
  span.textContent = '';
  let at = 0;
  for (const [from, to] of runs) {
    if (from > at) span.append(str.slice(at, from));
    const mark = document.createElement('mark');
    mark.className = 'ivb-hit';
    mark.textContent = str.slice(from, to);
    span.append(mark);
    at = to;
  }
  if (at < str.length) span.append(str.slice(at));
}

// Sorted runs with the overlapping or touching ones joined.
function joinRuns(runs) {
  const out = [];
  for (const [from, to] of [...runs].sort((a, b) => a[0] - b[0])) {
    const last = out[out.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}

function fallback(reason) {
  console.warn('viewer fallback:', reason);
  status.textContent = config.texts.viewer_failed;
  box.textContent = '';
  const img = document.createElement('img');
  img.className = 'ivb-fallback';
  img.src = config.fallback;
  img.alt = config.alt;
  box.append(img);
  document.body.dataset.ready = 'fallback';
}

async function main() {
  const pdfjs = await import(config.pdfjs + 'build/pdf.min.mjs');
  pdfjs.GlobalWorkerOptions.workerSrc = config.pdfjs + 'build/pdf.worker.min.mjs';
  const pdf = await pdfjs.getDocument({
    url: config.url,
    cMapUrl: config.pdfjs + 'cmaps/',
    standardFontDataUrl: config.pdfjs + 'standard_fonts/',
    wasmUrl: config.pdfjs + 'wasm/',
    isEvalSupported: false,
    enableXfa: false,
  }).promise;
  const first = await pdf.getPage(config.page + 1);
  const width = Math.max(280, box.clientWidth - 24);
  const scale = width / first.getViewport({scale: 1}).width;
  const slots = [];
  for (let n = 1; n <= pdf.numPages; n++) {
    const slot = document.createElement('section');
    slot.className = 'ivb-page';
    slot.dataset.pageNumber = String(n);
    slot.setAttribute('aria-label', config.texts.viewer_page.replace('{n}', n));
    const size = first.getViewport({scale});
    slot.style.width = `${size.width}px`;
    slot.style.height = `${size.height}px`;
    box.append(slot);
    slots.push(slot);
  }
  const drawn = new Map();
  const draw = (n) => {
    if (!drawn.has(n)) drawn.set(n, drawPage(pdfjs, pdf, n, scale, slots[n - 1]));
    return drawn.get(n);
  };
  // The cited page and the next (a quote may run on to it), then the quote.
  const cited = [config.page + 1];
  if (config.page + 2 <= pdf.numPages) cited.push(config.page + 2);
  const layers = await Promise.all(cited.map(draw));
  const {pages: hits, found} = highlight(layers);
  const target = box.querySelector('mark.ivb-hit') || slots[config.page];
  box.scrollTop = target.getBoundingClientRect().top - box.getBoundingClientRect().top
    + box.scrollTop - box.clientHeight / 4;
  if (hits.length) {
    status.textContent = config.texts.viewer_found.replace('{pages}', hits.join('–'));
  } else {
    status.textContent = config.texts.viewer_not_found;
  }
  document.body.dataset.hitPages = hits.join(',');
  document.body.dataset.hitQuotes = String(found);
  document.body.dataset.ready = '1';
  // The other pages when they come into view.
  const watcher = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting) draw(Number(entry.target.dataset.pageNumber));
    }
  }, {root: box, rootMargin: '400px 0px'});
  slots.forEach((slot) => watcher.observe(slot));
}

async function drawPage(pdfjs, pdf, n, scale, slot) {
  const page = await pdf.getPage(n);
  const viewport = page.getViewport({scale});
  slot.style.width = `${viewport.width}px`;
  slot.style.height = `${viewport.height}px`;
  slot.style.setProperty('--scale-factor', String(scale));
  slot.style.setProperty('--total-scale-factor', String(scale));
  const ratio = window.devicePixelRatio || 1;
  const canvas = document.createElement('canvas');
  canvas.width = Math.floor(viewport.width * ratio);
  canvas.height = Math.floor(viewport.height * ratio);
  canvas.style.width = `${viewport.width}px`;
  canvas.style.height = `${viewport.height}px`;
  canvas.setAttribute('aria-hidden', 'true');
  const layer = document.createElement('div');
  layer.className = 'textLayer';
  slot.append(canvas, layer);
  const transform = ratio === 1 ? undefined : [ratio, 0, 0, ratio, 0, 0];
  await page.render({canvas, viewport, transform}).promise;
  const textContent = await page.getTextContent();
  const textLayer = new pdfjs.TextLayer({textContentSource: textContent, container: layer, viewport});
  await textLayer.render();
  // textDivs and textContentItemsStr are parallel; pdf.js puts a <br> after a line's end.
  const strs = textLayer.textContentItemsStr;
  return textLayer.textDivs.map((span, i) => {
    const next = span.nextSibling;
    return {str: strs[i], eol: !!next && next.nodeName === 'BR', span, page: n};
  });
}

// Marks each quote over the cited page and the next; returns the page numbers marked and
// how many of the quotes were found.
function highlight(layers) {
  const items = layers.flat().filter((item) => item.span.textContent === item.str);
  const {hay, where} = foldItems(items);
  const runs = new Map(); // item index -> [[from, to), ...], one run per quote
  let found = 0;
  for (const quote of config.quotes || []) {
    const span = findQuote(hay, foldQuote(quote));
    if (!span) continue;
    found += 1;
    const [start, end] = span;
    const ranges = new Map(); // item index -> [from, to) of this quote
    for (let c = start; c < end; c++) {
      const [i, k] = where[c];
      if (k >= items[i].str.length) continue;
      const range = ranges.get(i) || [k, k + 1];
      range[0] = Math.min(range[0], k);
      range[1] = Math.max(range[1], k + 1);
      ranges.set(i, range);
    }
    for (const [i, range] of ranges) runs.set(i, [...(runs.get(i) || []), range]);
  }
  const pages = new Set();
  for (const [i, itemRuns] of runs) {
    markSpan(items[i].span, joinRuns(itemRuns));
    pages.add(items[i].page);
  }
  return {pages: [...pages].sort((a, b) => a - b), found};
}

main().catch(fallback);
