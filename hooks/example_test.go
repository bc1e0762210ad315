package hooks_test

import (
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/sealkit/sealkit/hooks"
	"github.com/sealkit/sealkit/seal"
)

// Mount the handler under /hooks/ and fetch the module, then revalidate it
// with its ETag.
func Example() {
	h := hooks.New()
	mux := http.NewServeMux()
	mux.Handle("/hooks/", http.StripPrefix("/hooks", h))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	src, _ := h.URL("/hooks", hooks.ScriptFile) // "/hooks/sealkit-resume.js?v=<digest>"
	res, err := http.Get(srv.URL + src)
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Println(res.Status)
	fmt.Println(res.Header.Get("Content-Type"))
	fmt.Println(res.Header.Get("Cache-Control"))
	fmt.Println(res.Header.Get("X-Content-Type-Options"))

	req, _ := http.NewRequest(http.MethodGet, srv.URL+src, nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Println(res.Status)
	// Output:
	// 200 OK
	// text/javascript; charset=utf-8
	// public, max-age=31536000, immutable
	// nosniff
	// 304 Not Modified
}

// ScriptTag renders the module's script tag with its versioned URL and its
// Subresource Integrity, for an html/template page.
func ExampleHandler_ScriptTag() {
	h := hooks.New()
	tag, err := h.ScriptTag("/hooks")
	if err != nil {
		panic(err)
	}
	integrity, _ := h.Integrity(hooks.ScriptFile)
	fmt.Println(strings.HasPrefix(string(tag), `<script type="module" src="/hooks/sealkit-resume.js?v=`))
	fmt.Println(strings.Contains(string(tag), ` integrity="`+integrity+`"`))
	fmt.Println(strings.HasPrefix(integrity, "sha384-"), len(integrity))
	// Output:
	// true
	// true
	// true 71
}

// ImportMap names the module for every script of an html/template page,
// so the page's own modules, inline or static files, import
// "sealkit-resume" and never a versioned URL; ImportMapHash lets a strict
// Content-Security-Policy run the map.
func ExampleHandler_ImportMap() {
	h := hooks.New()
	importMap, err := h.ImportMap("/hooks")
	if err != nil {
		panic(err)
	}
	hash, err := h.ImportMapHash("/hooks")
	if err != nil {
		panic(err)
	}
	page := template.Must(template.New("page").Parse(`<!doctype html>
<title>Job</title>
{{.ImportMap}}
<script type="module" src="/static/app.js"></script>
`)) // app.js: import {connectResume} from "sealkit-resume";
	csp := "default-src 'self'; script-src 'self' " + hash // the header of every page

	var buf strings.Builder
	if err := page.Execute(&buf, map[string]any{"ImportMap": importMap}); err != nil {
		panic(err)
	}
	src, _ := h.URL("/hooks", hooks.ScriptFile)
	fmt.Println(strings.Contains(buf.String(), `<script type="importmap">{"imports":{"sealkit-resume":"`+src+`"},"integrity":{"`+src+`":"sha384-`))
	fmt.Println(strings.HasPrefix(csp, "default-src 'self'; script-src 'self' 'sha256-"))
	// Output:
	// true
	// true
}

// An application serves its own files, embedded with go:embed, with the
// same ETag and integrity as the hooks script: the page links to the
// versioned URL and pins the bytes, and the browser revalidates the file
// on every use.
func ExampleAsset() {
	app, err := hooks.NewAsset([]byte("import {connectResume} from \"sealkit-resume\";\n"), "text/javascript; charset=utf-8")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/app.js", app)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// The page's template writes them into its script tag:
	// <script type="module" src="{{.AppSrc}}" integrity="{{.AppIntegrity}}"></script>
	src := app.URL("/static/app.js") // "/static/app.js?v=<digest>"
	fmt.Println(strings.HasPrefix(src, "/static/app.js?v="), strings.HasPrefix(app.Integrity(), "sha384-"))

	res, err := http.Get(srv.URL + src)
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Println(res.Status, res.Header.Get("Cache-Control"))

	req, _ := http.NewRequest(http.MethodGet, srv.URL+src, nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Println(res.Status)
	// Output:
	// true true
	// 200 OK no-cache
	// 304 Not Modified
}

// A Phoenix LiveView stores its state in the browser through ResumeHook as
// Phoenix.Token.encrypt(endpoint, "livebook", state, max_age: 3600) (see
// hooks/PHOENIX.md); the hook hands that blob back in its "restore" event. A
// Go service with the same secret_key_base opens the same blob with package
// seal. The blob below was made by Phoenix.Token.encrypt itself (plug_crypto
// 2.1.1 on Erlang/OTP; the launcher-state vector of seal's interop tests)
// from a map with string keys.
func Example_phoenixBlob() {
	secretKeyBase := []byte("u6Q7yq0H1f3nJ2mXoQ9rT4sVbW8cZ1dE5gH7jK0lM3nP6qR9sU2vX5yA8bC1dF4g")
	blob := "XCP.Rml9YaFaG3vJYhb6dJlIfmAfDluPb2_jOths8gRigYf4AUcmk9snT7YSWSeARXdWCCa0uQsz6YcifgV-FY19ddJLB2pMdFoKIXyPmGMEbzOFEO3bH9j58CM9v6hrnPTfdn9P4IFzDuljOCtNCJMsrsmFQnHPsgICIAJy_bUL5kFH_NErpbGkN3aP5rXtmfkFotEw21OMJq6iE8XXAGD5bN_9BQHEIjac6WOWtkDyaqaEPmQYNZdVEkB-O-Jvl0sfaXR6MoeG43c3MR8fhMLc1MbzmSv-dJ_xoHCWgDiP55-Nha-N"
	// The token expires an hour after it was made; the example reads it one
	// second after. A service uses the real clock: leave WithClock out.
	s, err := seal.New(secretKeyBase, seal.WithClock(func() time.Time { return time.UnixMilli(1764172801000) }))
	if err != nil {
		panic(err)
	}
	// Keys map to fields in snake_case: MachineID reads "machine_id".
	var launch struct {
		App, MachineID, Region, Password string
		StartedAt                        int64
	}
	if err := s.Decrypt("livebook", blob, &launch); err != nil {
		panic(err) // errors.Is(err, seal.ErrExpired) or seal.ErrInvalid
	}
	fmt.Println(launch.App, launch.MachineID, launch.Region, launch.StartedAt)
	// Output: livebook-quiet-river-1234 e784e903f5e318 fra 1764172800
}
