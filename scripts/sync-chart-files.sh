#!/usr/bin/env bash
# sync-chart-files.sh copies the generated alerts/ and dashboards/ into the
# Helm chart (deploy/helm/eventwatch/files/), because Helm cannot read files
# outside a chart. `make generate` runs it; deploy/helmtest fails when the
# copies differ from the generated files.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
files="$root/deploy/helm/eventwatch/files"
rm -rf "$files/alerts" "$files/dashboards"
mkdir -p "$files/alerts" "$files/dashboards"
cp "$root/alerts/eventwatch.rules.yaml" "$files/alerts/"
cp "$root"/dashboards/*.json "$files/dashboards/"
echo "chart files synced: $(ls "$files/alerts" "$files/dashboards" | grep -c '\.')"
