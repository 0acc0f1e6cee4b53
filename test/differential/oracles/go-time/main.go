// Oracle for the Go ports (src/go/): answers one JSON line per JSON line read.
//   {"op":"parse-duration","text":"1m30s"} -> {"ok":true,"nanos":"90000000000"} or {"ok":false,"err":"..."}
//   {"op":"format-duration","nanos":"-1500"} -> {"text":"-1.5µs"}
package main

import (
	"bufio"
	"encoding/json"
	"os"
	"strconv"
	"time"
)

type question struct {
	Op    string `json:"op"`
	Text  string `json:"text"`
	Nanos string `json:"nanos"`
}

type answer struct {
	Ok    bool   `json:"ok"`
	Nanos string `json:"nanos,omitempty"`
	Err   string `json:"err,omitempty"`
	Text  string `json:"text,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var q question
		if err := json.Unmarshal(in.Bytes(), &q); err != nil {
			panic(err)
		}
		var a answer
		switch q.Op {
		case "parse-duration":
			d, err := time.ParseDuration(q.Text)
			if err != nil {
				a = answer{Ok: false, Err: err.Error()}
			} else {
				a = answer{Ok: true, Nanos: strconv.FormatInt(int64(d), 10)}
			}
		case "format-duration":
			n, err := strconv.ParseInt(q.Nanos, 10, 64)
			if err != nil {
				panic(err)
			}
			a = answer{Ok: true, Text: time.Duration(n).String()}
		default:
			panic("unknown op " + q.Op)
		}
		if err := out.Encode(a); err != nil {
			panic(err)
		}
	}
}
