package browser

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"testing"
)

// Layout is what a page looks like at one width, measured in Chromium.
type Layout struct {
	Width       int      `json:"width"`        // the frame width asked for
	InnerWidth  int      `json:"inner_width"`  // window.innerWidth
	ScrollWidth int      `json:"scroll_width"` // document.documentElement.scrollWidth
	BodyWidth   int      `json:"body_width"`   // the body's rendered width (the page's column)
	Broken      []string `json:"broken"`       // cells whose text wraps between two letters or digits: "text|continued"
	Overflow    []string `json:"overflow"`     // elements whose right edge is past the window, or whose content is wider than they are
	Hidden      []string `json:"hidden"`       // table header cells not displayed
}

// layoutScript measures the page in the frame: per table cell, heading and
// card, every line break inside a text node (by the character rectangles
// of a Range) whose neighbours are both letters or digits is a word
// broken in the middle; any cell or block whose right edge passes the
// window, or whose content is wider than its box, overflows.
const layoutScript = `
document.getElementById("f").addEventListener("load", function () {
  var w = this.contentWindow, d = w.document;
  var out = {width: %d, inner_width: w.innerWidth, scroll_width: d.documentElement.scrollWidth,
    body_width: Math.round(d.body.getBoundingClientRect().width), broken: [], overflow: [], hidden: []};
  var word = /[A-Za-z0-9]/, space = /\s/;
  var els = d.querySelectorAll("td, th, h1, h2, h3, .card, p, li, svg, table, code, pre");
  for (var i = 0; i < els.length; i++) {
    var el = els[i], r = el.getBoundingClientRect(), label = el.tagName.toLowerCase() + " " + (el.textContent || "").trim().slice(0, 60);
    if (r.width > 0 && r.right > w.innerWidth + 0.5) out.overflow.push(label + " (right edge " + Math.round(r.right) + ")");
    if ((el.tagName === "TD" || el.tagName === "TH") && el.scrollWidth > el.clientWidth + 1) out.overflow.push(label + " (content " + el.scrollWidth + " > " + el.clientWidth + ")");
    if (el.tagName === "TH" && w.getComputedStyle(el).display === "none") out.hidden.push(label);
    if (el.tagName !== "TD" && el.tagName !== "TH" && el.tagName !== "H2" && el.tagName !== "H3") continue;
    var walker = d.createTreeWalker(el, NodeFilter.SHOW_TEXT), n, range = d.createRange();
    while ((n = walker.nextNode())) {
      var text = n.data, prevTop = null, prev = "", sawSpace = false;
      for (var k = 0; k < text.length; k++) {
        var ch = text.charAt(k);
        if (space.test(ch)) { sawSpace = true; continue; }
        range.setStart(n, k); range.setEnd(n, k + 1);
        var rects = range.getClientRects();
        if (!rects.length) continue;
        var top = rects[0].top;
        if (prevTop !== null && top > prevTop + 2 && !sawSpace && word.test(prev) && word.test(ch)) {
          out.broken.push(text.slice(0, k) + "|" + text.slice(k));
        }
        prevTop = top; prev = ch; sawSpace = false;
      }
    }
  }
  document.getElementById("result").textContent = JSON.stringify(out);
});`

const layoutWrapper = `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe id="f" src="%s" style="border:0;width:%dpx;height:1200px"></iframe>
<pre id="result">pending</pre>
<script>%s</script></body></html>`

var layoutRE = regexp.MustCompile(`(?s)<pre id="result">(\{.*?\})</pre>`)

// MeasureLayout loads page (an absolute http URL) in a frame of the given
// CSS width and returns its Layout.
func MeasureLayout(t testing.TB, bin, page string, width int) Layout {
	t.Helper()
	u, err := url.Parse(page)
	if err != nil {
		t.Fatalf("page url: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host}))
	mux.HandleFunc("GET /__layout", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, layoutWrapper, html.EscapeString(u.RequestURI()), width, fmt.Sprintf(layoutScript, width))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dom := Run(t, bin, srv.URL+"/__layout", "--dump-dom", "--virtual-time-budget=30000",
		fmt.Sprintf("--window-size=%d,1400", width+40))
	m := layoutRE.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("layout check at %d px did not run:\n%.2000s", width, dom)
	}
	var l Layout
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &l); err != nil {
		t.Fatalf("layout result at %d px: %v\n%s", width, err, m[1])
	}
	return l
}

// CheckLayout fails t unless page, at each width, is laid out at that
// width, uses the whole of it (the body is as wide as the window), scrolls
// no horizontally, breaks no word in a table cell or heading and lets
// nothing overflow, and hides no table column.
func CheckLayout(t testing.TB, bin, page string, widths ...int) {
	t.Helper()
	for _, w := range widths {
		l := MeasureLayout(t, bin, page, w)
		t.Logf("at %d px: inner %d, scroll %d, body %d, %d broken words, %d overflowing", w, l.InnerWidth, l.ScrollWidth, l.BodyWidth, len(l.Broken), len(l.Overflow))
		switch {
		case l.InnerWidth != w:
			t.Errorf("at %d px: innerWidth is %d (the frame was not laid out at that width)", w, l.InnerWidth)
		case l.BodyWidth < w:
			t.Errorf("at %d px the page uses only %d px of the width", w, l.BodyWidth)
		case l.ScrollWidth > l.InnerWidth:
			t.Errorf("at %d px the page scrolls horizontally: scrollWidth %d", w, l.ScrollWidth)
		}
		for _, b := range l.Broken {
			t.Errorf("at %d px a word breaks mid-word: %q", w, b)
		}
		for _, o := range l.Overflow {
			t.Errorf("at %d px overflows: %s", w, o)
		}
		for _, h := range l.Hidden {
			t.Errorf("at %d px a column is hidden: %s", w, h)
		}
	}
}
