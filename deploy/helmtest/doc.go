// Package helmtest holds the tests of the Helm chart in deploy/helm/eventwatch;
// it has no code of its own.
//
// They drive the real helm and kubectl-validate binaries (skipped locally
// when missing, failing in CI, via internal/testutil/bins): `helm lint
// --strict` and `helm template` for the default values (a StatefulSet),
// workload=Deployment and every ci/values-*.yaml file; each rendered
// manifest validated offline with
// `kubectl-validate --version 1.30`, the monitoring.coreos.com kinds against
// the CRD schemas in testdata/crds; the rendered eventwatch configuration
// loaded with internal/config's strict parser; rendering failures that
// values must cause (replicaCount > 1 without PostgreSQL, schema
// violations); and the generated alerts and dashboards, which the chart
// reaches through symbolic links in files/, equal to alerts/ and
// dashboards/, also after rendering.
package helmtest
