package p2p

import (
	"reflect"
	"testing"
)

// TestMsgBatchEventFillsEveryField: the dispatcher reuses one Event for
// the messages it hands a handler, which may write to any field of it;
// msgBatch.event writes only the fields that differ, and must reset every
// field there is (this fails when a field is added to Event and not to
// event).
func TestMsgBatchEventFillsEveryField(t *testing.T) {
	n := &Node{}
	p := &Peer{node: n}
	b := &msgBatch{peer: p, buf: []byte("0123456789")}
	b.add(b.buf[2:5], 2, true, KindText, None)
	b.add([]byte("zz"), 0, false, KindBytes, Zlib)
	var ev Event
	// Every field set to something that is not its zero value.
	v := reflect.ValueOf(&ev).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		f = reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem() // unexported ones too
		switch f.Kind() {
		case reflect.Int:
			f.SetInt(77)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.String:
			f.SetString("x")
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Interface:
			f.Set(reflect.ValueOf(1))
		case reflect.Struct: // Message
			f.Set(reflect.ValueOf(Message{Kind: KindJSON, Data: []byte("old"), Compression: Lzma}))
		default:
			t.Fatalf("field %s of kind %v: teach this test to set it", v.Type().Field(i).Name, f.Kind())
		}
	}
	b.event(&ev, &b.recs[0])
	want := Event{Type: EventMessage, Node: n, Peer: p, Message: Message{Kind: KindText, Data: []byte("234")}}
	if !reflect.DeepEqual(want, ev) {
		t.Fatalf("event() left %+v, want %+v", ev, want)
	}
	b.event(&ev, &b.recs[1])
	want.Message = Message{Kind: KindBytes, Data: []byte("zz"), Compression: Zlib}
	if !reflect.DeepEqual(want, ev) {
		t.Fatalf("event() left %+v, want %+v", ev, want)
	}
}
