//go:build !nodashboard

package web_test

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/bowtie-analytics/bowtie/web"
)

// TestAssets_References checks that every file the page and its modules
// refer to is embedded, and that the vendored library keeps its licence.
func TestAssets_References(t *testing.T) {
	assets := web.Assets()
	read := func(name string) string {
		t.Helper()
		data, err := fs.ReadFile(assets, name)
		if err != nil {
			t.Fatalf("%s is not embedded: %v", name, err)
		}
		return string(data)
	}
	index := read("index.html")
	refs := regexp.MustCompile(`(?:src|href)="([^"#:]+)"`).FindAllStringSubmatch(index, -1)
	if len(refs) < 4 {
		t.Fatalf("index.html refers to only %d files", len(refs))
	}
	for _, m := range refs {
		if m[1] == "./" || strings.HasPrefix(m[1], "./?") { // the page itself (a view of it)
			continue
		}
		read(m[1])
	}
	imports := regexp.MustCompile(`(?m)^import .* from '\./([^']+)';$`)
	modules, err := fs.Glob(assets, "*.js")
	if err != nil || len(modules) == 0 {
		t.Fatalf("no modules: %v", err)
	}
	for _, name := range modules {
		for _, m := range imports.FindAllStringSubmatch(read(name), -1) {
			read(m[1])
		}
	}
	if !strings.Contains(read("vendor/echarts/LICENSE"), "Apache License") {
		t.Error("the ECharts licence is missing")
	}
	read("vendor/echarts/NOTICE")
}
