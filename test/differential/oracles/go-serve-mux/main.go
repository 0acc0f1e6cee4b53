// Oracle for the sidecar's routing (src/http/serve-mux.ts): Go's net/http
// reads a request head and its ServeMux, with handlers at /healthz and
// /metrics as upstream registers them, answers it. One JSON line in, one out:
//   {"head":"GET //healthz HTTP/1.1\r\nHost: x\r\n\r\n"} -> {"status":301,"location":"/healthz","contentType":"...","body":"..."}
// A head Go's server would refuse before any handler is {"status":400}.
package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
)

type question struct {
	Head string `json:"head"`
}

type answer struct {
	Status      int    `json:"status"`
	Location    string `json:"location,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	Body        string `json:"body,omitempty"`
}

func main() {
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	}
	mux.HandleFunc("/healthz", ok)
	mux.HandleFunc("/metrics", ok)

	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var q question
		if err := json.Unmarshal(in.Bytes(), &q); err != nil {
			panic(err)
		}
		var a answer
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(q.Head)))
		if err != nil {
			a = answer{Status: 400}
		} else {
			recorder := httptest.NewRecorder()
			// As net/http's serverHandler: "OPTIONS *" never reaches the mux.
			if req.RequestURI == "*" && req.Method == "OPTIONS" {
				recorder.WriteHeader(200)
			} else {
				mux.ServeHTTP(recorder, req)
			}
			a = answer{Status: recorder.Code, Location: recorder.Header().Get("Location"), ContentType: recorder.Header().Get("Content-Type"), Body: recorder.Body.String()}
			if req.Method == "HEAD" {
				a.Body = ""
			}
		}
		if err := out.Encode(a); err != nil {
			panic(err)
		}
	}
}
