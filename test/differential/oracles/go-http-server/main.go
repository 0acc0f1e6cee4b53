// Oracle for the HTTP/1.1 server (src/wire/http1/): Go's net/http serving a
// ServeMux with /healthz answering 200 "ok" to any method, as upstream
// livenessprobe does (http.ListenAndServe with no timeouts set), on a loopback
// port. Answers every JSON line read with the port: {"port":N}. Exits when its
// input closes.
package main

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"os"
)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("ok"))
	})
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go http.Serve(listener, mux)
	port := listener.Addr().(*net.TCPAddr).Port
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		out.Encode(map[string]int{"port": port})
	}
}
