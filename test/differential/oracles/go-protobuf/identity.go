// csi.v1.GetPluginInfoResponse and csi.v1.ProbeResponse as protoc-gen-go
// generates them (the shape of the CSI spec's csi.pb.go, which the Go sidecar
// uses), written by hand because there is no protoc here: Go structs with
// protobuf struct tags, registered by protoimpl.TypeBuilder from a descriptor
// built at init. Decoding then takes protobuf-go's table-driven path
// (internal/impl), the one generated code takes; dynamicpb would take the
// reflective path instead, which panics in protobuf-go 1.28 on a map entry
// whose key is sent twice, the second time with another wire type.
package main

import (
	"reflect"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/runtime/protoimpl"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

type GetPluginInfoResponse struct {
	state         protoimpl.MessageState
	sizeCache     protoimpl.SizeCache
	unknownFields protoimpl.UnknownFields

	Name          string            `protobuf:"bytes,1,opt,name=name,proto3" json:"name,omitempty"`
	VendorVersion string            `protobuf:"bytes,2,opt,name=vendor_version,json=vendorVersion,proto3" json:"vendor_version,omitempty"`
	Manifest      map[string]string `protobuf:"bytes,3,rep,name=manifest,proto3" json:"manifest,omitempty" protobuf_key:"bytes,1,opt,name=key,proto3" protobuf_val:"bytes,2,opt,name=value,proto3"`
}

func (*GetPluginInfoResponse) ProtoMessage() {}

// ProtoReflect is the method protoc-gen-go writes for every message.
func (x *GetPluginInfoResponse) ProtoReflect() protoreflect.Message {
	mi := &identityMessageTypes[0]
	if protoimpl.UnsafeEnabled && x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

type ProbeResponse struct {
	state         protoimpl.MessageState
	sizeCache     protoimpl.SizeCache
	unknownFields protoimpl.UnknownFields

	Ready *wrapperspb.BoolValue `protobuf:"bytes,1,opt,name=ready,proto3" json:"ready,omitempty"`
}

func (*ProbeResponse) ProtoMessage() {}
func (x *ProbeResponse) ProtoReflect() protoreflect.Message {
	mi := &identityMessageTypes[1]
	if protoimpl.UnsafeEnabled && x != nil {
		ms := protoimpl.X.MessageStateOf(protoimpl.Pointer(x))
		if ms.LoadMessageInfo() == nil {
			ms.StoreMessageInfo(mi)
		}
		return ms
	}
	return mi.MessageOf(x)
}

// Messages in the descriptor's order: top-level ones, then nested ones.
var identityMessageTypes = make([]protoimpl.MessageInfo, 3)

func init() {
	s := proto.String
	optional := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	repeated := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	str := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
	msg := descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
	file := &descriptorpb.FileDescriptorProto{
		Name:       s("csi-identity-subset.proto"),
		Package:    s("csi.v1"),
		Syntax:     s("proto3"),
		Dependency: []string{"google/protobuf/wrappers.proto"},
		MessageType: []*descriptorpb.DescriptorProto{
			{
				Name: s("GetPluginInfoResponse"),
				Field: []*descriptorpb.FieldDescriptorProto{
					{Name: s("name"), Number: proto.Int32(1), Label: optional, Type: str, JsonName: s("name")},
					{Name: s("vendor_version"), Number: proto.Int32(2), Label: optional, Type: str, JsonName: s("vendorVersion")},
					{Name: s("manifest"), Number: proto.Int32(3), Label: repeated, Type: msg, TypeName: s(".csi.v1.GetPluginInfoResponse.ManifestEntry"), JsonName: s("manifest")},
				},
				NestedType: []*descriptorpb.DescriptorProto{{
					Name: s("ManifestEntry"),
					Field: []*descriptorpb.FieldDescriptorProto{
						{Name: s("key"), Number: proto.Int32(1), Label: optional, Type: str, JsonName: s("key")},
						{Name: s("value"), Number: proto.Int32(2), Label: optional, Type: str, JsonName: s("value")},
					},
					Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
				}},
			},
			{
				Name: s("ProbeResponse"),
				Field: []*descriptorpb.FieldDescriptorProto{
					{Name: s("ready"), Number: proto.Int32(1), Label: optional, Type: msg, TypeName: s(".google.protobuf.BoolValue"), JsonName: s("ready")},
				},
			},
		},
	}
	rawDescriptor, err := proto.Marshal(file)
	if err != nil {
		panic(err)
	}
	goTypes := []interface{}{
		(*GetPluginInfoResponse)(nil), // 0
		(*ProbeResponse)(nil),         // 1
		nil,                           // 2: csi.v1.GetPluginInfoResponse.ManifestEntry
		(*wrapperspb.BoolValue)(nil),  // 3
	}
	dependencyIndexes := []int32{
		2, // 0: csi.v1.GetPluginInfoResponse.manifest:type_name -> csi.v1.GetPluginInfoResponse.ManifestEntry
		3, // 1: csi.v1.ProbeResponse.ready:type_name -> google.protobuf.BoolValue
		2, // [2:2] is the sub-list for method output_type
		2, // [2:2] is the sub-list for method input_type
		2, // [2:2] is the sub-list for extension type_name
		2, // [2:2] is the sub-list for extension extendee
		0, // [0:2] is the sub-list for field type_name
	}
	protoimpl.TypeBuilder{
		File: protoimpl.DescBuilder{
			GoPackagePath: reflect.TypeOf(GetPluginInfoResponse{}).PkgPath(),
			RawDescriptor: rawDescriptor,
			NumMessages:   3,
		},
		GoTypes:           goTypes,
		DependencyIndexes: dependencyIndexes,
		MessageInfos:      identityMessageTypes,
	}.Build()
}
