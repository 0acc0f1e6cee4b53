// Oracle for the protobuf wire-format reader (src/wire/protobuf/) and the CSI
// Identity messages decoded with it (src/csi/identity-messages.ts): protobuf-go
// unmarshals the bytes as csi.v1.GetPluginInfoResponse and csi.v1.ProbeResponse
// (proto3, field numbers from the CSI spec; identity.go), as the Go sidecar's
// generated code does. Answers one JSON line per JSON line read:
//
//	{"bytes":"<hex>"} ->
//	{"info":{"ok":true,"name":"...","vendorVersion":"...","manifest":{"k":"v"}} or {"ok":false,"err":"..."},
//	 "probe":{"ok":true,"ready":"absent"|"true"|"false"} or {"ok":false,"err":"..."}}
//
// Strings travel as hex of their bytes ("nameHex", keys and values of
// "manifestHex"), so that JSON never changes them.
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"os"

	"google.golang.org/protobuf/proto"
)

type question struct {
	Bytes string `json:"bytes"`
}

type infoAnswer struct {
	Ok               bool              `json:"ok"`
	Err              string            `json:"err,omitempty"`
	NameHex          string            `json:"nameHex"`
	VendorVersionHex string            `json:"vendorVersionHex"`
	ManifestHex      map[string]string `json:"manifestHex"`
}

type probeAnswer struct {
	Ok    bool   `json:"ok"`
	Err   string `json:"err,omitempty"`
	Ready string `json:"ready,omitempty"`
}

type answer struct {
	Info  infoAnswer  `json:"info"`
	Probe probeAnswer `json:"probe"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<24), 1<<24)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var q question
		if err := json.Unmarshal(in.Bytes(), &q); err != nil {
			panic(err)
		}
		b, err := hex.DecodeString(q.Bytes)
		if err != nil {
			panic(err)
		}
		var a answer

		info := &GetPluginInfoResponse{}
		if err := proto.Unmarshal(b, info); err != nil {
			a.Info = infoAnswer{Ok: false, Err: err.Error()}
		} else {
			a.Info = infoAnswer{
				Ok:               true,
				NameHex:          hex.EncodeToString([]byte(info.Name)),
				VendorVersionHex: hex.EncodeToString([]byte(info.VendorVersion)),
				ManifestHex:      map[string]string{},
			}
			for k, v := range info.Manifest {
				a.Info.ManifestHex[hex.EncodeToString([]byte(k))] = hex.EncodeToString([]byte(v))
			}
		}

		probe := &ProbeResponse{}
		if err := proto.Unmarshal(b, probe); err != nil {
			a.Probe = probeAnswer{Ok: false, Err: err.Error()}
		} else {
			switch {
			case probe.Ready == nil:
				a.Probe = probeAnswer{Ok: true, Ready: "absent"}
			case probe.Ready.Value:
				a.Probe = probeAnswer{Ok: true, Ready: "true"}
			default:
				a.Probe = probeAnswer{Ok: true, Ready: "false"}
			}
		}
		if err := out.Encode(a); err != nil {
			panic(err)
		}
	}
}
