package hooks_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/sealkit/sealkit/hooks"
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
