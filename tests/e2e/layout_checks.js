// The layout checks of test_layout_browser.py, run in the page: what is cut, broken or too small, and how
// much was measured. `digitPx`: the height of a number printed in a numbered grid image, in its own pixels.
({digitPx}) => {
  const out = {cut: [], broken: [], chart: [], tiny: [], frame_cut: [], frame_scroll: [], frame_unread: 0,
               numbered: [], measured: {texts: 0, charts: 0, frames: 0, images: 0, numbered: 0}};
  const visible = e => e.getClientRects().length > 0 && e.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  const where = e => {
    const t = e.closest("[data-testid]");
    return t ? t.getAttribute("data-testid") : e.tagName;
  };
  const clipper = e => {  // the nearest ancestor that hides what spills out sideways
    for (let a = e; a && a !== document.body; a = a.parentElement) {
      if (["hidden", "clip", "auto", "scroll"].includes(getComputedStyle(a).overflowX)) return a;
    }
    return null;
  };

  // ---- text in the page: cut sideways, or a word broken over lines
  const range = document.createRange();
  for (const root of document.querySelectorAll("[data-testid='stMain'], [data-testid='stSidebar']")) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode: n => n.textContent.trim() && !n.parentElement.closest("svg, script, style, [aria-hidden='true']")
        ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT});
    for (let n; (n = walker.nextNode());) {
      const el = n.parentElement;
      if (!visible(el)) continue;
      range.selectNodeContents(n);
      const rects = [...range.getClientRects()].filter(r => r.width > 0);
      if (!rects.length) continue;
      out.measured.texts++;
      const text = n.textContent.trim();
      const c = clipper(el);
      if (c && c.getBoundingClientRect().width > 2) {  // a box 1 px wide holds words for screen readers only
        const b = c.getBoundingClientRect();
        const left = Math.min(...rects.map(r => r.left)), right = Math.max(...rects.map(r => r.right));
        if (right > b.right + 1 || left < b.left - 1) {
          out.cut.push({text: text.slice(0, 60), in: where(el), text_px: [Math.round(left), Math.round(right)],
                        box_px: [Math.round(b.left), Math.round(b.right)]});
          continue;
        }
      }
      for (const m of n.textContent.matchAll(/[\p{L}\p{N}%]{3,}/gu)) {
        range.setStart(n, m.index);
        range.setEnd(n, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (lines.size > 1) {
          out.broken.push({word: m[0], lines: lines.size, in: where(el), text: text.slice(0, 60)});
          break;
        }
      }
    }
  }

  // a select box or a text field shows its value in an input: cut when the value is wider than the field
  for (const input of document.querySelectorAll(
      "[data-testid='stMain'] input, [data-testid='stSidebar'] input")) {
    if (!input.value || ["hidden", "file", "checkbox", "radio", "range"].includes(input.type) || !visible(input)) continue;
    out.measured.texts++;
    if (input.scrollWidth > input.clientWidth + 1)
      out.cut.push({text: input.value.slice(0, 60), in: where(input), text_px: [0, input.scrollWidth],
                    box_px: [0, input.clientWidth]});
  }

  // ---- Plotly charts
  for (const plot of document.querySelectorAll("[data-testid='stMain'] .js-plotly-plot")) {
    if (!visible(plot)) continue;
    out.measured.charts++;
    const svg = plot.querySelector(".main-svg");
    const box = svg.getBoundingClientRect();
    const title = ((plot.querySelector(".gtitle") || {}).textContent || "").trim();
    for (const t of plot.querySelectorAll(".main-svg text")) {
      if (!t.textContent.trim() || !visible(t)) continue;
      const r = t.getBoundingClientRect();
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
        out.chart.push({chart: title, text: t.textContent.slice(0, 40), kind: "outside the chart"});
      const size = parseFloat(getComputedStyle(t).fontSize);
      if (size < 9) out.tiny.push({chart: title, text: t.textContent.slice(0, 40), font_px: size});
    }
    const legend = plot.querySelector(".legend");
    if (legend && visible(legend)) {
      const l = legend.getBoundingClientRect();
      for (const t of plot.querySelectorAll(".gtitle, .g-xtitle text, .g-ytitle text, .g-x2title text, .g-y2title text")) {
        const r = t.getBoundingClientRect();
        if (r.width && r.left < l.right && r.right > l.left && r.top < l.bottom && r.bottom > l.top)
          out.chart.push({chart: title, text: t.textContent.slice(0, 40), kind: "under the legend"});
      }
    }
    if (/\bROC\b/.test(title)) {  // rates: both axes run 0 to 1, no further
      for (const t of plot.querySelectorAll(".xtick text, .ytick text")) {
        const v = parseFloat(t.textContent.replace("\u2212", "-"));
        if (visible(t) && (v < 0 || v > 1))
          out.chart.push({chart: title, text: t.textContent, kind: "an axis beyond 0-1"});
      }
    }
  }

  // ---- st.dataframe: a canvas (Glide Data Grid); its columns and shown text come from the grid's props
  const ctx = document.createElement("canvas").getContext("2d");
  for (const frame of document.querySelectorAll("[data-testid='stMain'] [data-testid='stDataFrame']")) {
    if (!visible(frame)) continue;
    const canvas = frame.querySelector("canvas");
    const key = canvas && Object.keys(canvas).find(k => k.startsWith("__reactFiber"));
    let props = null;
    for (let f = key && canvas[key], depth = 0; f && depth < 30; f = f.return, depth++) {
      const p = f.memoizedProps || {};
      if (p.getCellContent && Array.isArray(p.columns) && p.theme && typeof p.rows === "number") { props = p; break; }
    }
    if (!props) { out.frame_unread++; continue; }
    out.measured.frames++;
    const t = props.theme, pad = t.cellHorizontalPadding;
    props.columns.forEach((col, c) => {
      ctx.font = `${t.headerFontStyle} ${t.fontFamily}`;
      const head = ctx.measureText(col.title || "").width + 2 * pad + (col.icon ? t.headerIconSize + pad : 0);
      if (head > col.width + 1)
        out.frame_cut.push({column: col.title, text: col.title, text_px: Math.round(head), column_px: col.width});
      ctx.font = `${t.baseFontStyle} ${t.fontFamily}`;
      for (let r = 0; r < Math.min(props.rows, 300); r++) {
        const cell = props.getCellContent([c, r]);
        const text = ["text", "number", "uri", "markdown"].includes(cell.kind) ? String(cell.displayData ?? "") : "";
        const w = text ? ctx.measureText(text).width + 2 * pad : 0;
        if (w > col.width + 1) {
          out.frame_cut.push({column: col.title, text: text.slice(0, 60), text_px: Math.round(w), column_px: col.width});
          break;  // one cut cell names the column
        }
      }
    });
    const shown = frame.getBoundingClientRect().width;
    let x = 0;
    const hidden = [];
    for (const col of props.columns) { x += col.width; if (x > shown + 1) hidden.push(col.title); }
    if (hidden.length) out.frame_scroll.push({hidden, columns_px: Math.round(x), frame_px: Math.round(shown)});
  }

  // ---- images: counted; a numbered grid's printed numbers as tall as shown
  for (const figure of document.querySelectorAll("[data-testid='stMain'] [data-testid='stImage']")) {
    const img = figure.querySelector("img");
    if (!img || !visible(img) || !img.naturalWidth) continue;
    out.measured.images++;
    const caption = ((figure.closest("[data-testid='stElementContainer']") || figure).innerText || "").trim();
    if (/numbered 0.\d+ row by row/.test(caption)) {
      out.measured.numbered++;
      out.numbered.push({caption: caption.slice(0, 60), number_px: digitPx * img.getBoundingClientRect().width / img.naturalWidth});
    }
  }
  return out;
}
