package browser

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestOverflowMeasures: a page wider than the frame is reported as
// scrolling, one that fits is not.
func TestOverflowMeasures(t *testing.T) {
	bin := Find(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!DOCTYPE html><html><body style="margin:0"><div style="width:%spx">x</div></body></html>`, r.URL.Query().Get("w"))
	}))
	defer srv.Close()
	if sw, iw := Overflow(t, bin, srv.URL+"/?w=1200", 800); sw <= iw || iw != 800 {
		t.Errorf("wide page: scrollWidth %d, innerWidth %d; want an overflow at 800", sw, iw)
	}
	if sw, iw := Overflow(t, bin, srv.URL+"/?w=300", 800); sw > iw {
		t.Errorf("narrow page: scrollWidth %d > innerWidth %d", sw, iw)
	}
}
