// A real CSI driver process for tests on grpc-go, the gRPC stack almost every
// CSI driver runs: the same flags, stdin control lines and stdout events as
// the grpc-js test driver (../csi-test-driver.ts), so a test can run against
// either. Identity messages are encoded by hand (a raw-bytes codec) so that it
// builds from Debian's packages alone:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o csi-test-driver-go .
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Behaviour is what the test scripts; the JSON names are the grpc-js driver's.
type Behaviour struct {
	Name              string `json:"name"`
	VendorVersion     string `json:"vendorVersion"`
	ProbeDelayMs      int    `json:"probeDelayMs"`
	Ready             string `json:"ready"`
	ProbeError        string `json:"probeError"`
	ProbeErrorMessage string `json:"probeErrorMessage"`
	InfoError         string `json:"infoError"`
	HangProbe         bool   `json:"hangProbe"`
	ProbeAnswerBytes  int    `json:"probeAnswerBytes"`
	// InfoDelayMs delays every GetPluginInfo answer (drivers that do start-up work behind it).
	InfoDelayMs int `json:"infoDelayMs"`
	// HangProbeOnce: the next Probe never answers (until its caller cancels it); the ones after are answered.
	HangProbeOnce bool `json:"hangProbeOnce"`
}

var (
	mu         sync.Mutex
	behaviour  Behaviour
	quiet      bool
	callCounts = map[string]int{}
	stdout     = json.NewEncoder(os.Stdout)
)

// Events are structs, not maps: their fields keep the grpc-js driver's order ("event" first).
type listeningEvent struct {
	Event   string `json:"event"`
	Address string `json:"address"`
}

type callEvent struct {
	Event  string `json:"event"`
	Method string `json:"method"`
	Count  int    `json:"count"`
}

type appliedEvent struct {
	Event     string    `json:"event"`
	Behaviour Behaviour `json:"behaviour"`
}

type errorEvent struct {
	Event   string `json:"event"`
	Message string `json:"message"`
}

var reportMu sync.Mutex

func report(event interface{}) {
	reportMu.Lock()
	defer reportMu.Unlock()
	_ = stdout.Encode(event)
}

func countCall(method string) Behaviour {
	mu.Lock()
	callCounts[method]++
	count := callCounts[method]
	current := behaviour
	mu.Unlock()
	if !quiet {
		report(callEvent{"call", method, count})
	}
	return current
}

// rawCodec passes message bytes through: requests are ignored, answers encoded below.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) String() string { return "proto" }

func varint(value int) []byte {
	var out []byte
	for value > 0x7f {
		out = append(out, byte(value&0x7f)|0x80)
		value >>= 7
	}
	return append(out, byte(value))
}

func lengthDelimited(field int, payload []byte) []byte {
	out := append(varint(field<<3|2), varint(len(payload))...)
	return append(out, payload...)
}

func pluginInfoMessage(b Behaviour) []byte {
	entry := append(lengthDelimited(1, []byte("test")), lengthDelimited(2, []byte("true"))...)
	out := lengthDelimited(1, []byte(b.Name))
	out = append(out, lengthDelimited(2, []byte(b.VendorVersion))...)
	return append(out, lengthDelimited(3, entry)...)
}

func probeMessage(b Behaviour) []byte {
	var out []byte
	switch b.Ready {
	case "true":
		out = lengthDelimited(1, []byte{0x08, 0x01})
	case "false":
		out = lengthDelimited(1, nil) // BoolValue{value: false} encodes as an empty message
	}
	// Pad with the unknown field 15 to exactly ProbeAnswerBytes, as the grpc-js driver does.
	for lengthBytes := 1; b.ProbeAnswerBytes > 0 && lengthBytes <= 5; lengthBytes++ {
		padLength := b.ProbeAnswerBytes - len(out) - 1 - lengthBytes
		if padLength > 0 && len(varint(padLength)) == lengthBytes {
			return append(append(append(out, 0x7a), varint(padLength)...), []byte(strings.Repeat("a", padLength))...)
		}
	}
	return out
}

var codeByName = map[string]codes.Code{
	"CANCELLED": codes.Canceled, "UNKNOWN": codes.Unknown, "INVALID_ARGUMENT": codes.InvalidArgument,
	"DEADLINE_EXCEEDED": codes.DeadlineExceeded, "NOT_FOUND": codes.NotFound, "ALREADY_EXISTS": codes.AlreadyExists,
	"PERMISSION_DENIED": codes.PermissionDenied, "RESOURCE_EXHAUSTED": codes.ResourceExhausted,
	"FAILED_PRECONDITION": codes.FailedPrecondition, "ABORTED": codes.Aborted, "OUT_OF_RANGE": codes.OutOfRange,
	"UNIMPLEMENTED": codes.Unimplemented, "INTERNAL": codes.Internal, "UNAVAILABLE": codes.Unavailable,
	"DATA_LOSS": codes.DataLoss, "UNAUTHENTICATED": codes.Unauthenticated,
}

func statusError(codeName, message string) error {
	code, ok := codeByName[codeName]
	if !ok {
		return status.Errorf(codes.Internal, "unknown gRPC status name %s", codeName)
	}
	return status.Error(code, message)
}

type handler func(ctx context.Context) ([]byte, error)

func unary(fn handler) func(interface{}, context.Context, func(interface{}) error, grpc.UnaryServerInterceptor) (interface{}, error) {
	return func(_ interface{}, ctx context.Context, decode func(interface{}) error, _ grpc.UnaryServerInterceptor) (interface{}, error) {
		var request []byte
		if err := decode(&request); err != nil {
			return nil, err
		}
		answer, err := fn(ctx)
		if err != nil {
			return nil, err
		}
		return &answer, nil
	}
}

var identity = grpc.ServiceDesc{
	ServiceName: "csi.v1.Identity",
	HandlerType: (*interface{})(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "GetPluginInfo", Handler: unary(func(ctx context.Context) ([]byte, error) {
			b := countCall("GetPluginInfo")
			if b.InfoDelayMs > 0 {
				select {
				case <-time.After(time.Duration(b.InfoDelayMs) * time.Millisecond):
				case <-ctx.Done():
					report(callEvent{"cancelled", "GetPluginInfo", 0})
					return nil, ctx.Err()
				}
			}
			if b.InfoError != "" {
				return nil, statusError(b.InfoError, "GetPluginInfo failure injected by test")
			}
			return pluginInfoMessage(b), nil
		})},
		{MethodName: "GetPluginCapabilities", Handler: unary(func(context.Context) ([]byte, error) {
			countCall("GetPluginCapabilities")
			return []byte{}, nil
		})},
		{MethodName: "Probe", Handler: unary(func(ctx context.Context) ([]byte, error) {
			b := countCall("Probe")
			hangOnce := false
			if b.HangProbeOnce {
				mu.Lock()
				hangOnce, behaviour.HangProbeOnce = behaviour.HangProbeOnce, false
				mu.Unlock()
			}
			if b.HangProbe || hangOnce {
				<-ctx.Done() // never answer: the caller's deadline or cancel must save it
				report(callEvent{"cancelled", "Probe", 0})
				return nil, ctx.Err()
			}
			if b.ProbeDelayMs > 0 {
				select {
				case <-time.After(time.Duration(b.ProbeDelayMs) * time.Millisecond):
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			if b.ProbeError != "" {
				return nil, statusError(b.ProbeError, b.ProbeErrorMessage)
			}
			return probeMessage(b), nil
		})},
	},
}

var knownKeys = map[string]bool{
	"name": true, "vendorVersion": true, "probeDelayMs": true, "ready": true, "probeError": true,
	"probeErrorMessage": true, "infoError": true, "hangProbe": true, "probeAnswerBytes": true,
	"infoDelayMs": true, "hangProbeOnce": true,
}

func applyControl(line string) {
	var command map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &command); err != nil {
		report(errorEvent{"error", "control line is not JSON: " + line})
		return
	}
	if raw, ok := command["exit"]; ok {
		var code int
		_ = json.Unmarshal(raw, &code)
		os.Exit(code)
	}
	mu.Lock()
	var unknown []string
	for key, raw := range command {
		if !knownKeys[key] {
			unknown = append(unknown, key)
			continue
		}
		_ = json.Unmarshal([]byte(fmt.Sprintf("{%q:%s}", key, raw)), &behaviour)
	}
	current := behaviour
	mu.Unlock()
	for _, key := range unknown {
		report(errorEvent{"error", "unknown control key " + key})
	}
	report(appliedEvent{"applied", current})
}

func main() {
	socket := flag.String("socket", "", "unix socket path to listen on")
	tcp := flag.String("tcp", "", "host:port to listen on")
	flag.StringVar(&behaviour.Name, "name", "test.csi.example.com", "driver name")
	flag.StringVar(&behaviour.VendorVersion, "vendor-version", "1.0.0", "vendor version")
	flag.IntVar(&behaviour.ProbeDelayMs, "probe-delay-ms", 0, "delay before answering Probe")
	flag.StringVar(&behaviour.Ready, "ready", "true", "true, false or absent")
	flag.StringVar(&behaviour.ProbeError, "probe-error", "", "gRPC status name to fail Probe with")
	flag.StringVar(&behaviour.ProbeErrorMessage, "probe-error-message", "driver failure injected by test", "its message")
	flag.StringVar(&behaviour.InfoError, "info-error", "", "gRPC status name to fail GetPluginInfo with")
	flag.BoolVar(&behaviour.HangProbe, "hang-probe", false, "never answer Probe")
	flag.IntVar(&behaviour.ProbeAnswerBytes, "probe-answer-bytes", 0, "pad Probe answers to this many bytes")
	flag.IntVar(&behaviour.InfoDelayMs, "info-delay-ms", 0, "delay before answering GetPluginInfo")
	flag.BoolVar(&behaviour.HangProbeOnce, "hang-probe-once", false, "never answer the next Probe")
	flag.BoolVar(&quiet, "quiet", false, "no line per call")
	flag.Parse()

	var listener net.Listener
	var err error
	address := *socket
	switch {
	case *socket != "":
		_ = os.Remove(*socket) // a stale socket from an earlier run, as real drivers do
		listener, err = net.Listen("unix", *socket)
	case *tcp != "":
		listener, err = net.Listen("tcp", *tcp)
		if err == nil {
			address = listener.Addr().String()
		}
	default:
		err = fmt.Errorf("give --socket PATH or --tcp HOST:PORT")
	}
	if err != nil {
		report(errorEvent{"error", err.Error()})
		os.Exit(1)
	}
	server := grpc.NewServer(grpc.CustomCodec(rawCodec{}))
	server.RegisterService(&identity, nil)
	report(listeningEvent{"listening", address})
	go func() {
		// Stdin closing means the test that started us is gone: do not linger.
		scanner := bufio.NewScanner(os.Stdin)
		for scanner.Scan() {
			applyControl(scanner.Text())
		}
		os.Exit(0)
	}()
	_ = server.Serve(listener)
}
