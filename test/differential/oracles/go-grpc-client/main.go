// Oracle for the gRPC client verdict: grpc-go calls /csi.v1.Identity/Probe
// once per JSON line read, on a new connection to the given unix socket, and
// answers how the call ended (grpc-go's status code and message, or the
// response bytes), one JSON line each.
//   {"socket":"/tmp/x/csi.sock","timeoutMs":1000}
//     -> {"code":0,"response":"<base64>"} or {"code":14,"message":"<base64 of the message bytes>"}
// The codec passes bytes through, so the verdict is the transport's alone.
//   {"op":"bin","values":["AA==","!!"]} -> {"valid":[true,false]}
// says which binary metadata values grpc-go's decodeBinHeader takes (base64,
// padded when the length is a multiple of 4, else unpadded), which today's
// grpc-go requires and this one only logs.
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

type question struct {
	Op        string   `json:"op"`
	Socket    string   `json:"socket"`
	TimeoutMs int      `json:"timeoutMs"`
	Values    []string `json:"values"`
}

type answer struct {
	Code     uint32 `json:"code"`
	Message  []byte `json:"message,omitempty"`
	Response []byte `json:"response,omitempty"`
	Valid    []bool `json:"valid,omitempty"`
}

// binValid decodes v as grpc-go's decodeBinHeader does.
func binValid(v string) bool {
	var err error
	if len(v)%4 == 0 {
		_, err = base64.StdEncoding.DecodeString(v)
	} else {
		_, err = base64.RawStdEncoding.DecodeString(v)
	}
	return err == nil
}

// rawCodec sends and receives message bytes as they are.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append([]byte{}, data...)
	return nil
}
func (rawCodec) Name() string { return "raw" }

func probe(q question) answer {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(q.TimeoutMs)*time.Millisecond)
	defer cancel()
	dial := func(ctx context.Context, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", q.Socket)
	}
	conn, err := grpc.DialContext(ctx, "passthrough:///csi", grpc.WithInsecure(), grpc.WithContextDialer(dial))
	if err != nil {
		st := status.Convert(err)
		return answer{Code: uint32(st.Code()), Message: []byte(st.Message())}
	}
	defer conn.Close()
	request := []byte{}
	var response []byte
	err = conn.Invoke(ctx, "/csi.v1.Identity/Probe", &request, &response, grpc.ForceCodec(rawCodec{}))
	if err != nil {
		st := status.Convert(err)
		return answer{Code: uint32(st.Code()), Message: []byte(st.Message())}
	}
	if response == nil {
		response = []byte{}
	}
	return answer{Code: 0, Response: response}
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
		a := answer{}
		if q.Op == "bin" {
			for _, v := range q.Values {
				a.Valid = append(a.Valid, binValid(v))
			}
		} else {
			a = probe(q)
		}
		if err := out.Encode(a); err != nil {
			panic(err)
		}
	}
}
