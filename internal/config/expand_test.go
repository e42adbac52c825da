package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// env returns a lookup over a fixed set of variables, the way os.LookupEnv sees them.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestExpansion(t *testing.T) {
	vars := map[string]string{
		"SET":     "value",
		"EMPTY":   "",
		"B":       "b",
		"SPECIAL": "p#ss: word\n- item\n'quoted' \"double\" ${SET} $${SET}",
	}
	tests := []struct {
		name     string
		in       string
		want     string
		wantRefs []string
		wantErr  string
	}{
		{name: "set", in: "${SET}", want: "value", wantRefs: []string{"SET"}},
		{name: "unset", in: "${UNSET}", want: "", wantRefs: []string{"UNSET"}},
		{name: "set but empty", in: "${EMPTY}", want: "", wantRefs: []string{"EMPTY"}},
		{name: "default when unset", in: "${UNSET:-fallback}", want: "fallback", wantRefs: []string{"UNSET"}},
		{name: "default when empty", in: "${EMPTY:-fallback}", want: "fallback", wantRefs: []string{"EMPTY"}},
		{name: "default ignored when set", in: "${SET:-fallback}", want: "value", wantRefs: []string{"SET"}},
		{name: "empty default inside text", in: "pre-${UNSET:-}-post", want: "pre--post", wantRefs: []string{"UNSET"}},
		{name: "default with a colon and spaces", in: "${UNSET:-redis://h:6379/0 x}", want: "redis://h:6379/0 x", wantRefs: []string{"UNSET"}},
		{name: "nested reference in default", in: "${UNSET:-${B}}", want: "b", wantRefs: []string{"UNSET", "B"}},
		{name: "nested empty default", in: "${UNSET:-${ALSO_UNSET:-}}", want: "", wantRefs: []string{"UNSET", "ALSO_UNSET"}},
		{name: "several references", in: "${SET}:${B}/${SET}", want: "value:b/value", wantRefs: []string{"SET", "B"}},
		{name: "special characters are kept and not expanded again", in: "${SPECIAL}", want: vars["SPECIAL"], wantRefs: []string{"SPECIAL"}},
		{name: "escaped reference", in: "$${SET}", want: "${SET}"},
		{name: "dollar without brace", in: "pa$word $SET $", want: "pa$word $SET $"},
		{name: "closing brace outside a reference", in: "a}b", want: "a}b"},
		{name: "unclosed", in: "${SET", wantErr: "has a ${ without its closing }", wantRefs: []string{"SET"}},
		{name: "unclosed default", in: "${UNSET:-abc", wantErr: "has a ${ without its closing }", wantRefs: []string{"UNSET"}},
		{name: "no name", in: "${}", wantErr: "does not start with a variable name"},
		{name: "name starting with a digit", in: "${1A}", wantErr: "does not start with a variable name"},
		{name: "unsupported operator", in: "${UNSET-x}", wantErr: "followed by something other than } or :-default", wantRefs: []string{"UNSET"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := expansion{lookup: env(vars)}
			got, _, err := x.text(tt.in, false)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error: got %v, want one containing %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("got error %v", err)
			} else if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if !slices.Equal(x.refs, tt.wantRefs) {
				t.Errorf("refs: got %q, want %q", x.refs, tt.wantRefs)
			}
		})
	}
}

// TestExpanderWalk checks which nodes are expanded: every scalar value at any depth, quoted
// or not, but never a key.
func TestExpanderWalk(t *testing.T) {
	src := `
${KEY}: ${V}
plain: ${V}
quoted: "${V}"
list: [a, "${V}", {inner: '${V}'}]
anchored: &a ${V}
alias: *a
`
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	e := newExpander(env(map[string]string{"V": "x#: y", "KEY": "k"}))
	e.walk(&doc)
	var got map[string]any
	if err := doc.Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"${KEY}":   "x#: y",
		"plain":    "x#: y",
		"quoted":   "x#: y",
		"list":     []any{"a", "x#: y", map[string]any{"inner": "x#: y"}},
		"anchored": "x#: y",
		"alias":    "x#: y",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

// TestExpansionKeepsStructure feeds values that would break the YAML if they were substituted
// into the text, and checks that each arrives intact in its own key.
func TestExpansionKeepsStructure(t *testing.T) {
	token := "tok#en: x\nshops: []\n  - domain: evil.myshopify.com"
	secret := `"quote' and ${SET} and # comment`
	src := `
admin:
  token: ${ADMIN_TOKEN}
shops:
  - domain: example.myshopify.com
    access_token: ${TOKEN}
    webhook_secret: '${SECRET}'
`
	c, err := Parse([]byte(src), env(map[string]string{
		"ADMIN_TOKEN": "0123456789abcdef", "TOKEN": token, "SECRET": secret, "SET": "no",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Shops) != 1 {
		t.Fatalf("got %d shops, want 1", len(c.Shops))
	}
	if got := c.Shops[0].AccessToken; got != token {
		t.Errorf("access token: got %q, want %q", got, token)
	}
	if got := c.Shops[0].WebhookSecret; got != secret {
		t.Errorf("webhook secret: got %q, want %q", got, secret)
	}
}
