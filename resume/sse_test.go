package resume

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"testing"
)

// FuzzSendBody checks that parsing a POST B/send body (and the frame in
// it) never panics and fails only with a *protocolError.
func FuzzSendBody(f *testing.F) {
	for _, s := range []string{
		`{"conn":"abc","frame":{"t":"pong"}}`,
		`{"conn":"abc","frame":{"t":"restored","v":1,"key":"k","data":null}}`,
		`{"conn":7,"frame":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := httptest.NewRequest("POST", "/resume/send", bytes.NewReader(b))
		body, pe := readSendBody(httptest.NewRecorder(), r, minFrameSize)
		if pe != nil {
			if pe.Code == "" || pe.Message == "" {
				t.Fatalf("empty protocol error %+v", pe)
			}
			return
		}
		if body.conn == "" {
			t.Fatal("accepted an empty conn id")
		}
		if !bytes.Equal(body.raw, b) {
			t.Fatal("the raw body is not the body received")
		}
		if _, err := decodeFrame(body.frame, minFrameSize); err != nil {
			var p *protocolError
			if !errors.As(err, &p) {
				t.Fatalf("frame error %v is not a *protocolError", err)
			}
		}
	})
}

// FuzzStreamBody checks the POST B/stream body parser the same way.
func FuzzStreamBody(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"v":1}`, `{"v":2}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := httptest.NewRequest("POST", "/resume/stream", bytes.NewReader(b))
		if pe := readStreamBody(httptest.NewRecorder(), r); pe != nil && (pe.Code == "" || pe.Message == "") {
			t.Fatalf("empty protocol error %+v", pe)
		}
	})
}
