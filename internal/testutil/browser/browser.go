// Package browser drives headless Chromium for tests: the rendered DOM, a
// screenshot at a given window size, and the horizontal-overflow check
// (document.documentElement.scrollWidth <= innerWidth at a given width).
//
// Chromium is run as a program (no DevTools protocol): the overflow check
// loads the page in a same-origin iframe of that width, through a reverse
// proxy this package starts, and reads both numbers that a script in the
// wrapper page writes into its DOM.
package browser

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/eventwatch/eventwatch/internal/testutil/bins"
)

// Find returns the Chromium binary, or skips (fails in strict mode).
func Find(t testing.TB) string {
	t.Helper()
	return bins.Require(t, "apt-get install chromium", "chromium", "chromium-browser", "google-chrome")
}

// Run runs headless Chromium on url with extra flags and returns stdout.
func Run(t testing.TB, bin, url string, flags ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir()}, flags...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", flags, err, stderr.String())
	}
	return stdout.String()
}

// Screenshot writes a PNG of url at width x height to path and checks it
// is a real image.
func Screenshot(t testing.TB, bin, url string, width, height int, path string) {
	t.Helper()
	Run(t, bin, url, fmt.Sprintf("--window-size=%d,%d", width, height), "--screenshot="+path)
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 10000 || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("screenshot %s: %d bytes, %v", path, len(b), err)
	}
}

const wrapper = `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe id="f" src="%s" style="border:0;width:%dpx;height:1200px"></iframe>
<pre id="result">pending</pre>
<script>
document.getElementById("f").addEventListener("load", function () {
  var w = this.contentWindow;
  document.getElementById("result").textContent =
    "scrollWidth=" + w.document.documentElement.scrollWidth + " innerWidth=" + w.innerWidth;
});
</script></body></html>`

var resultRE = regexp.MustCompile(`scrollWidth=(\d+) innerWidth=(\d+)`)

// Overflow loads page (an absolute http URL) at the given CSS width and
// returns document.documentElement.scrollWidth and innerWidth.
func Overflow(t testing.TB, bin, page string, width int) (scrollWidth, innerWidth int) {
	t.Helper()
	u, err := url.Parse(page)
	if err != nil {
		t.Fatalf("page url: %v", err)
	}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	mux := http.NewServeMux()
	mux.Handle("/", proxy)
	mux.HandleFunc("GET /__overflow", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, wrapper, u.RequestURI(), width)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dom := Run(t, bin, srv.URL+"/__overflow", "--dump-dom", "--virtual-time-budget=15000",
		fmt.Sprintf("--window-size=%d,1400", width+40))
	m := resultRE.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("overflow check at %d px did not run:\n%.2000s", width, dom)
	}
	sw, _ := strconv.Atoi(m[1])
	iw, _ := strconv.Atoi(m[2])
	return sw, iw
}

// NoHorizontalScroll fails t when page scrolls horizontally at any of
// widths.
func NoHorizontalScroll(t testing.TB, bin, page string, widths ...int) {
	t.Helper()
	for _, w := range widths {
		sw, iw := Overflow(t, bin, page, w)
		if iw != w {
			t.Errorf("at %d px: innerWidth is %d (the frame was not laid out at that width)", w, iw)
		}
		if sw > iw {
			t.Errorf("at %d px the page scrolls horizontally: scrollWidth %d > innerWidth %d", w, sw, iw)
		}
		t.Logf("at %d px: scrollWidth %d, innerWidth %d", w, sw, iw)
	}
}
