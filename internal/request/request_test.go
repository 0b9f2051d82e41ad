package request

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dnsfailover/dnsfailover/internal/failover"
)

const (
	rec  = `"record":"redis-session-staging.staging.internal."`
	mode = `"mode":"planned"`
	why  = `"reason":"maintenance"`
)

// sample is a request body and what both the decoder and the schema must say.
type sample struct {
	name  string
	body  string
	field string // the field the decoder must blame; "-" = valid
	// semantic: only the decoder can see the problem (the schema accepts it).
	semantic bool
}

var samples = []sample{
	{"minimal", `{` + rec + `,` + mode + `,` + why + `}`, "-", false},
	{"instance target", `{` + rec + `,"target":"projects/acme-prod/locations/europe-west4/instances/cache-standby","mode":"emergency",` + why + `,"request_id":"chg-2041"}`, "-", false},
	{"ip target with port, dry run", `{` + rec + `,"target":"10.20.0.4:6378",` + mode + `,` + why + `,"dry_run":true}`, "-", false},
	{"ipv4 no port", `{` + rec + `,"target":"10.20.0.4",` + mode + `,` + why + `}`, "-", false},
	{"ipv6 bracketed", `{` + rec + `,"target":"[fd00::4]:6379",` + mode + `,` + why + `}`, "-", false},
	{"from ip with port", `{` + rec + `,"from":"10.20.0.3:6378","mode":"emergency",` + why + `,"request_id":"prober-1"}`, "-", false},
	{"from instance", `{` + rec + `,"from":"projects/acme-prod/locations/europe-west4/instances/cache-primary","mode":"emergency",` + why + `}`, "-", false},
	{"no trailing dot", `{"record":"redis.example",` + mode + `,` + why + `,"dry_run":false}`, "-", false},
	{"reason of 500 runes", `{` + rec + `,` + mode + `,"reason":"` + strings.Repeat("é", 500) + `"}`, "-", false},

	{"record missing", `{` + mode + `,` + why + `}`, "record", false},
	{"record empty", `{"record":"",` + mode + `,` + why + `}`, "record", false},
	{"record not a name", `{"record":"redis session!",` + mode + `,` + why + `}`, "record", false},
	{"record too long", `{"record":"` + strings.Repeat("a.", 128) + `",` + mode + `,` + why + `}`, "record", false},
	{"record number", `{"record":5,` + mode + `,` + why + `}`, "record", false},
	{"target hostname", `{` + rec + `,"target":"redis.example.com",` + mode + `,` + why + `}`, "target", false},
	{"target bad instance", `{` + rec + `,"target":"projects/P/locations/r/instances/x",` + mode + `,` + why + `}`, "target", false},
	{"target port out of range", `{` + rec + `,"target":"10.0.0.1:70000",` + mode + `,` + why + `}`, "target", false},
	{"target octet out of range", `{` + rec + `,"target":"10.0.0.256",` + mode + `,` + why + `}`, "target", false},
	{"target unspecified", `{` + rec + `,"target":"0.0.0.0",` + mode + `,` + why + `}`, "target", true},
	{"from hostname", `{` + rec + `,"from":"redis.example.com",` + mode + `,` + why + `}`, "from", false},
	{"from number", `{` + rec + `,"from":5,` + mode + `,` + why + `}`, "from", false},
	{"target null", `{` + rec + `,"target":null,` + mode + `,` + why + `}`, "target", false},
	{"mode missing", `{` + rec + `,` + why + `}`, "mode", false},
	{"mode unknown", `{` + rec + `,"mode":"yolo",` + why + `}`, "mode", false},
	{"mode wrong case", `{` + rec + `,"mode":"Planned",` + why + `}`, "mode", false},
	{"reason missing", `{` + rec + `,` + mode + `}`, "reason", false},
	{"reason blank", `{` + rec + `,` + mode + `,"reason":"   "}`, "reason", false},
	{"reason too long", `{` + rec + `,` + mode + `,"reason":"` + strings.Repeat("x", 501) + `"}`, "reason", false},
	{"dry_run string", `{` + rec + `,` + mode + `,` + why + `,"dry_run":"true"}`, "dry_run", false},
	{"request_id bad chars", `{` + rec + `,` + mode + `,` + why + `,"request_id":"a b"}`, "request_id", false},
	{"request_id too long", `{` + rec + `,` + mode + `,` + why + `,"request_id":"` + strings.Repeat("r", 129) + `"}`, "request_id", false},
	{"unknown field", `{` + rec + `,` + mode + `,` + why + `,"force":true}`, "force", false},
	{"case-folded field", `{"Record":"a.b.",` + mode + `,` + why + `}`, "Record", false},
	{"not an object", `["record"]`, "", false},
	{"string body", `"hello"`, "", false},
	{"empty body", ``, "", false},
	{"truncated", `{` + rec, "", false},
	{"trailing data", `{` + rec + `,` + mode + `,` + why + `} {}`, "", true},
	{"duplicate field", `{` + rec + `,` + mode + `,` + why + `,"mode":"emergency"}`, "mode", true},
}

func compileSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "docs", "request.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("request.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("request.schema.json")
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	return s
}

func TestSamplesAgainstDecoderAndSchema(t *testing.T) {
	schema := compileSchema(t)
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			m, err := Decode([]byte(s.body))
			if s.field == "-" {
				if err != nil {
					t.Fatalf("decoder rejected a valid request: %v", err)
				}
				if m.Record == "" || m.Mode == "" {
					t.Fatalf("decoded %+v", m)
				}
			} else {
				var ve *ValidationError
				if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want a ValidationError", err)
				}
				if !slices.Contains(ve.Fields(), s.field) {
					t.Fatalf("err = %v blames %q, want %q", err, ve.Fields(), s.field)
				}
			}
			inst, jerr := jsonschema.UnmarshalJSON(strings.NewReader(s.body))
			if jerr != nil {
				if s.field == "-" {
					t.Fatalf("valid sample is not JSON: %v", jerr)
				}
				return // not JSON at all: nothing for the schema to judge
			}
			serr := schema.Validate(inst)
			switch {
			case s.field == "-" && serr != nil:
				t.Fatalf("schema rejects what the decoder accepts: %v", serr)
			case s.field != "-" && !s.semantic && serr == nil:
				t.Fatalf("schema accepts what the decoder rejects (%v)", err)
			case s.semantic && serr != nil:
				t.Fatalf("sample marked decoder-only, but the schema rejects it too: %v", serr)
			}
		})
	}
}

func TestSchemaMirrorsGoConstants(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "request.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Required   []string `json:"required"`
		Additional bool     `json:"additionalProperties"`
		Properties map[string]struct {
			Type      string   `json:"type"`
			Enum      []string `json:"enum"`
			MaxLength int      `json:"maxLength"`
			Pattern   string   `json:"pattern"`
		} `json:"properties"`
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	var tags []string
	for f := range reflect.TypeFor[Manual]().Fields() {
		tags = append(tags, strings.Split(f.Tag.Get("json"), ",")[0])
	}
	var props []string
	for k := range s.Properties {
		props = append(props, k)
	}
	slices.Sort(tags)
	slices.Sort(props)
	if !slices.Equal(tags, props) {
		t.Errorf("schema properties %v != Manual fields %v", props, tags)
	}
	if s.Additional {
		t.Error("schema must set additionalProperties false")
	}
	if want := []string{"record", "mode", "reason"}; !slices.Equal(s.Required, want) {
		t.Errorf("required %v, want %v", s.Required, want)
	}
	p := s.Properties
	if p["record"].Pattern != recordSyntax || p["record"].MaxLength != MaxRecord {
		t.Errorf("record constraints differ from recordSyntax/MaxRecord")
	}
	if p["request_id"].Pattern != requestIDSyntax {
		t.Errorf("request_id pattern differs from requestIDSyntax")
	}
	if p["reason"].MaxLength != MaxReason {
		t.Errorf("reason maxLength %d, want %d", p["reason"].MaxLength, MaxReason)
	}
	if want := []string{string(failover.Planned), string(failover.Emergency)}; !slices.Equal(p["mode"].Enum, want) {
		t.Errorf("mode enum %v, want %v", p["mode"].Enum, want)
	}
	if len(s.Examples) == 0 {
		t.Fatal("schema has no examples")
	}
	schema := compileSchema(t)
	for _, ex := range s.Examples {
		if _, err := Decode(ex); err != nil {
			t.Errorf("schema example %s rejected by the decoder: %v", ex, err)
		}
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(string(ex)))
		if err := schema.Validate(inst); err != nil {
			t.Errorf("schema example %s rejected by the schema: %v", ex, err)
		}
	}
}

func TestFailoverRequest(t *testing.T) {
	m, err := Decode([]byte(`{"record":"r.example.","target":"10.1.2.3","from":"10.1.2.2:6379","mode":"emergency","reason":"x","dry_run":true}`))
	if err != nil {
		t.Fatal(err)
	}
	got := m.Failover("msg-7")
	want := failover.Request{ID: "msg-7", Source: "manual", Record: "r.example.", Target: "10.1.2.3", From: "10.1.2.2:6379", Mode: failover.Emergency,
		Action: failover.ActionFailover, Reason: "x", DryRun: true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	m.RequestID = "chg-1"
	if m.Failover("msg-7").ID != "chg-1" {
		t.Fatal("request_id must win over the message id")
	}
}

func TestAllProblemsReported(t *testing.T) {
	_, err := Decode([]byte(`{"record":"","mode":"x","reason":"","request_id":"?"}`))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatal(err)
	}
	if got := ve.Fields(); !slices.Equal(got, []string{"record", "mode", "reason", "request_id"}) {
		t.Fatalf("fields %v (%v)", got, err)
	}
}

func TestRoundTripMarshal(t *testing.T) {
	in := Manual{Record: "a.example.", Target: "projects/p/locations/r/instances/i", Mode: "planned", Reason: "r", DryRun: true, RequestID: "x1"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if *out != in {
		t.Fatalf("round trip %+v != %+v", *out, in)
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range samples {
		f.Add([]byte(s.body))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Decode accepted what Validate rejects: %v", err)
		}
		// Whatever we accept must survive a marshal round trip unchanged.
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Decode(b)
		if err != nil || *again != *m {
			t.Fatalf("round trip: %+v vs %+v (%v)", again, m, err)
		}
	})
}
