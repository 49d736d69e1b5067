//go:build nodashboard

package web

import (
	"io/fs"
	"testing/fstest"
)

// Assets returns a single page saying the dashboard was left out of this
// build; the API works as usual.
func Assets() fs.FS {
	return fstest.MapFS{"index.html": {Data: []byte(`<!doctype html><meta charset="utf-8"><title>bowtie</title>
<p>This bowtie binary was built with <code>-tags nodashboard</code>: the dashboard is not included.
The JSON API is served under <code>/api/v1/</code> (see docs/api.md).</p>
`)}}
}
