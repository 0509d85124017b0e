package report

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestReportSectionsAreComplete: every registered section has its Weekly
// field, a title, a Markdown and a CSV writer and an HTML fragment, and
// the page template with every fragment parses.
func TestReportSectionsAreComplete(t *testing.T) {
	if err := checkSections(reportSections); err != nil {
		t.Errorf("the section table is incomplete:\n%v", err)
	}
	if htmlErr != nil {
		t.Errorf("the HTML page does not parse: %v", htmlErr)
	}
}

// TestCheckSectionsNamesTheMissingPiece: a section registered without one
// of its pieces is named with the piece, never a nil-pointer panic.
func TestCheckSectionsNamesTheMissingPiece(t *testing.T) {
	for _, c := range []struct {
		name string
		drop func(s *reportSection)
		want string
	}{
		{"markdown", func(s *reportSection) { s.Markdown = nil }, "report section dead_letters_by_cause: no Markdown writer"},
		{"csv", func(s *reportSection) { s.CSV = nil }, "report section dead_letters_by_cause: no CSV writer"},
		{"html", func(s *reportSection) { s.HTML = " " }, "report section dead_letters_by_cause: no HTML fragment"},
		{"title", func(s *reportSection) { s.Title = "" }, "report section dead_letters_by_cause: no Title"},
		{"field", func(s *reportSection) { s.Key = "dead_letters" }, `report section dead_letters: Weekly has no field with JSON name "dead_letters" (model.go)`},
		{"key", func(s *reportSection) { s.Key = "" }, `report section #7 (title "dead letters by cause"): no Key`},
	} {
		t.Run(c.name, func(t *testing.T) {
			ss := append([]reportSection(nil), reportSections...)
			c.drop(&ss[7])
			err := checkSections(ss)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("checkSections: %v, want an error containing %q", err, c.want)
			}
		})
	}
	twice := append(append([]reportSection(nil), reportSections...), deadLettersSection)
	if err := checkSections(twice); err == nil || !strings.Contains(err.Error(), "dead_letters_by_cause: registered twice") {
		t.Errorf("a section registered twice: %v", err)
	}
}

// TestRenderersReportABrokenTable: with a section that lacks its Markdown
// writer, every rendering but JSON returns the error naming it.
func TestRenderersReportABrokenTable(t *testing.T) {
	saved, savedErr := reportSections, sectionsErr
	t.Cleanup(func() { reportSections, sectionsErr = saved, savedErr })
	reportSections = append([]reportSection(nil), saved...)
	reportSections[7].Markdown = nil
	sectionsErr = checkSections(reportSections)
	r := fullReport(t)
	for _, f := range []string{"md", "csv", "html"} {
		err := Render(&bytes.Buffer{}, r, f)
		if err == nil || !strings.Contains(err.Error(), "dead_letters_by_cause: no Markdown writer") {
			t.Errorf("%s: %v, want the missing Markdown writer named", f, err)
		}
	}
}

// TestParseHTMLNamesTheSection: a fragment that does not parse, or a
// template function defined twice, is reported with its section.
func TestParseHTMLNamesTheSection(t *testing.T) {
	bad := append([]reportSection(nil), reportSections...)
	bad[7].HTML = "{{if .DeadLetters}}"
	if _, err := parseHTML(htmlSource, htmlFuncs, bad); err == nil || !strings.Contains(err.Error(), "report section dead_letters_by_cause: parse its HTML fragment") {
		t.Errorf("an unclosed fragment: %v", err)
	}
	dup := append([]reportSection(nil), reportSections...)
	dup[7].Funcs = map[string]any{"wrap": wrapName}
	if _, err := parseHTML(htmlSource, htmlFuncs, dup); err == nil || !strings.Contains(err.Error(), `report section dead_letters_by_cause: template function "wrap" is defined twice`) {
		t.Errorf("a function defined twice: %v", err)
	}
}

// TestEverySectionShowsInEveryRendering: each section of the report with
// every section (fullReport) changes the Markdown, HTML and (unless it has
// no CSV rows) CSV rendering when its field is emptied, so no writer
// ignores its section.
func TestEverySectionShowsInEveryRendering(t *testing.T) {
	full := fullReport(t)
	for _, s := range reportSections {
		without := *full
		weeklyField(t, &without, s.Key).SetZero()
		for _, f := range []string{"md", "html", "csv"} {
			if f == "csv" && reflect.ValueOf(s.CSV).Pointer() == reflect.ValueOf(noCSVRows).Pointer() {
				continue
			}
			var with, none bytes.Buffer
			if err := Render(&with, full, f); err != nil {
				t.Fatal(err)
			}
			if err := Render(&none, &without, f); err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(with.Bytes(), none.Bytes()) {
				t.Errorf("section %s: the %s rendering is the same without it (its %s writer does not show it)", s.Key, f, f)
			}
		}
	}
}

// TestSectionsAreDocumented: every section's title is a row of the
// section table in docs/reports.md.
func TestSectionsAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/reports.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		if cells := strings.Split(line, "|"); len(cells) > 2 && strings.HasPrefix(line, "| ") {
			rows[strings.ToLower(strings.TrimSpace(cells[1]))] = true
		}
	}
	for _, s := range reportSections {
		if !rows[strings.ToLower(s.Title)] {
			t.Errorf("section %s: docs/reports.md has no row %q in its section table", s.Key, "| "+s.Title+" | ... |")
		}
	}
}

// weeklyField is the field of r with JSON name key.
func weeklyField(t *testing.T, r *Weekly, key string) reflect.Value {
	t.Helper()
	v := reflect.ValueOf(r).Elem()
	for i := range v.NumField() {
		if name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ","); name == key {
			return v.Field(i)
		}
	}
	t.Fatalf("Weekly has no field with JSON name %q", key)
	return reflect.Value{}
}

// TestEveryDescriptorIsRegistered: every package-level reportSection
// (a section's descriptor in its file) has its line in reportSections.
func TestEveryDescriptorIsRegistered(t *testing.T) {
	declared, registered := map[string]string{}, map[string]bool{}
	for _, f := range parsePackage(t) {
		ast.Inspect(f.file, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok {
				noteDescriptors(vs, f.fset, declared, registered)
			}
			return true
		})
	}
	if len(declared) == 0 {
		t.Fatal("found no reportSection descriptors")
	}
	for name, at := range declared {
		if !registered[name] {
			t.Errorf("%s (%s) is not in reportSections: add the line %q in registry.go, at its place in report order", name, at, name+",")
		}
	}
}

// parsedFile is one parsed source file of the package.
type parsedFile struct {
	fset *token.FileSet
	file *ast.File
}

// parsePackage parses the package's non-test files.
func parsePackage(t *testing.T) []parsedFile {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []parsedFile
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, parsedFile{fset, f})
	}
	return out
}

// noteDescriptors records the reportSection variables vs declares (with
// their position) and, for reportSections, the names it lists.
func noteDescriptors(vs *ast.ValueSpec, fset *token.FileSet, declared map[string]string, registered map[string]bool) {
	for i, v := range vs.Values {
		lit, ok := v.(*ast.CompositeLit)
		switch {
		case !ok:
		case isIdent(lit.Type, "reportSection"):
			declared[vs.Names[i].Name] = fset.Position(vs.Pos()).String()
		case vs.Names[i].Name == "reportSections":
			for _, e := range lit.Elts {
				if id, ok := e.(*ast.Ident); ok {
					registered[id.Name] = true
				}
			}
		}
	}
}

// isIdent reports whether e is the identifier name.
func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}
