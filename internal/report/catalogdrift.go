package report

// CatalogDifference is one difference between the declared catalog and the
// observed estate (the kinds of `eventwatch catalog diff`).
type CatalogDifference struct {
	Kind    string `json:"kind"`           // e.g. seen_not_declared, schema.required_missing
	Type    string `json:"type"`           // event type
	Version string `json:"version"`        // event version
	Path    string `json:"path,omitempty"` // data path of a schema difference
	Message string `json:"message"`
}

// catalogDriftSection is "Catalog drift": filled by a running instance
// (internal/api, WithCatalogDrift) for the week in progress of a
// whole-estate report.
var catalogDriftSection = reportSection{Key: keyCatalogDrift, Title: "catalog drift",
	Markdown: mdCatalogDrift, CSV: noCSVRows, HTML: catalogDriftHTML}

const catalogDriftHTML = `{{if .CatalogDrift}}
<h3>Catalog drift</h3>
<p>How the declared event catalog and the observed estate differ now (<code>eventwatch catalog diff</code>).</p>
<table><thead><tr><th scope="col">kind</th><th scope="col">event type</th><th scope="col">version</th><th scope="col">difference</th></tr></thead>
<tbody>{{range .CatalogDrift}}<tr><td>{{.Kind}}</td><td>{{wrap .Type}}</td><td>{{.Version}}</td><td>{{wrap .Message}}</td></tr>{{end}}</tbody></table>{{end}}`

func mdCatalogDrift(p mdPrinter, r *Weekly) {
	if len(r.CatalogDrift) > 0 {
		mdTable(p, "Catalog drift (declared vs observed, now)", []string{"kind", "event type", "version", "difference"}, r.CatalogDrift, func(d CatalogDifference) []string {
			return []string{d.Kind, d.Type, d.Version, d.Message}
		})
	}
}
