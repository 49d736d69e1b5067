//go:build !nodashboard

// Package web holds the dashboard: hand-written ES modules, CSS and the
// vendored Apache ECharts, embedded in the binary. There is no build step;
// the files are served as they are. Build with -tags nodashboard to leave
// them out (the server then serves a page saying so).
package web

import (
	"embed"
	"io/fs"
)

//go:embed index.html favicon.svg *.css *.js vendor/echarts
var files embed.FS

// Assets returns the dashboard files, index.html at the root.
func Assets() fs.FS { return files }
