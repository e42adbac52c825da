package config

import (
	"cmp"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"
)

// decoder turns an expanded YAML tree into config values, collecting every problem instead of
// stopping at the first, each placed at the node it is about so they can be listed in file
// order. Its messages never quote a configured value: any value might be a secret pasted
// into the wrong key.
type decoder struct {
	exp      *expander
	problems []located
}

type located struct {
	Problem
	line, column int
}

func (d *decoder) add(at *yaml.Node, path, msg string) {
	d.problems = append(d.problems, located{Problem{path, msg}, at.Line, at.Column})
}

// sorted returns the problems in the order their nodes appear in the file; problems about one
// node keep the order they were found in.
func (d *decoder) sorted() Problems {
	slices.SortStableFunc(d.problems, func(a, b located) int {
		return cmp.Or(cmp.Compare(a.line, b.line), cmp.Compare(a.column, b.column))
	})
	ps := make(Problems, len(d.problems))
	for i, p := range d.problems {
		ps[i] = p.Problem
	}
	return ps
}

// field is the value at one key path, present or not.
type field struct {
	d    *decoder
	path string
	val  *yaml.Node // nil when the key is absent; aliases are resolved
	at   *yaml.Node // where problems go: the value as written, else the enclosing node
	// muted is set when the enclosing value is not a mapping: that is reported once, and its
	// keys being missing is not news.
	muted bool
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// null reports whether the key is absent or its value is YAML null ("key:", "~", "null").
func (f field) null() bool {
	return f.val == nil || f.val.Kind == yaml.ScalarNode && f.val.ShortTag() == "!!null"
}

// problem reports msg about this field, naming the environment variables the value came from:
// the file shows only ${VAR}, so the variable is what the operator has to fix.
func (f field) problem(msg string) {
	if f.val != nil {
		if refs := f.d.exp.refs[f.val]; len(refs) > 0 {
			msg += " (from " + strings.Join(refs, ", ") + ")"
		}
	}
	f.d.add(f.at, f.path, msg)
}

func (f field) check(ok bool, msg string) {
	if !ok {
		f.problem(msg)
	}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return "a single value"
	}
}

// text returns the field's scalar value; "" when it is absent, null or empty, which every
// key treats as "not set" so that ${VAR} with VAR unset falls back to the default.
func (f field) text() string {
	if f.null() {
		return ""
	}
	if f.val.Kind != yaml.ScalarNode {
		f.problem("must be a single value, not " + describe(f.val))
		return ""
	}
	if err := f.d.exp.bad[f.val]; err != nil {
		f.problem("value " + err.Error())
		return ""
	}
	return f.val.Value
}

// textOr returns the field's value, or def when it is not set.
func (f field) textOr(def string) string {
	if s := f.text(); s != "" {
		return s
	}
	return def
}

// required returns the field's value and reports it when it is not set.
func (f field) required() string {
	s := f.text()
	if s == "" && !f.muted && f.d.exp.bad[f.val] == nil {
		if f.val != nil && len(f.d.exp.refs[f.val]) > 0 {
			f.d.add(f.at, f.path, "required (set "+strings.Join(f.d.exp.refs[f.val], " or ")+")")
		} else if f.val == nil || f.val.Kind == yaml.ScalarNode {
			f.d.add(f.at, f.path, "required")
		}
	}
	return s
}

// oneOf returns the field's value, def when it is not set, and reports any other value.
func (f field) oneOf(def string, allowed ...string) string {
	s := f.textOr(def)
	if !slices.Contains(allowed, s) {
		f.problem("must be one of " + strings.Join(allowed, ", "))
		return def
	}
	return s
}

// matching returns the field's value, def when it is not set, and reports a value re does not
// match with msg.
func (f field) matching(def string, re *regexp.Regexp, msg string) string {
	s := f.textOr(def)
	if s != "" && !re.MatchString(s) {
		f.problem(msg)
	}
	return s
}

func (f field) boolean(def bool) bool {
	switch s := f.text(); strings.ToLower(s) {
	case "":
		return def
	case "true":
		return true
	case "false":
		return false
	default:
		f.problem("must be true or false")
		return def
	}
}

// integer returns the field's whole number, def when it is not set or not in [lo, hi].
func (f field) integer(def, lo, hi int64) int64 {
	s := f.text()
	if s == "" {
		return def
	}
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil:
		f.problem("must be a whole number")
	case n < lo || n > hi:
		if hi == math.MaxInt {
			f.problem(fmt.Sprintf("must be at least %d", lo))
		} else {
			f.problem(fmt.Sprintf("must be between %d and %d", lo, hi))
		}
	default:
		return n
	}
	return def
}

// duration returns the field's Go duration ("90s", "5m", "0"), def when it is not set or bad.
func (f field) duration(def time.Duration) time.Duration {
	s := f.text()
	if s == "" {
		return def
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		f.problem(`must be a duration such as "90s", "5m" or "0"`)
		return def
	}
	return v
}

// decimal parses the scalar's text exactly: a float64 cannot hold 0.1.
func (f field) decimal(def decimal.Decimal) decimal.Decimal {
	s := f.text()
	if s == "" {
		return def
	}
	v, err := decimal.NewFromString(s)
	if err != nil {
		f.problem("must be a decimal number")
		return def
	}
	return v
}

// httpURL returns the field's URL, def when it is not set; see checkURL.
func (f field) httpURL(def string) string {
	return f.checkURL(f.textOr(def))
}

// checkURL reports s unless it is empty or an absolute http(s) URL of the form
// scheme://host[:port][/prefix], and returns it without a trailing slash so that callers can
// append "/orders" or "/admin/api/...". User info is refused: it would be a credential kept
// outside the keys dropsync treats as secret.
func (f field) checkURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		f.problem("must be a URL")
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Opaque != "":
		f.problem("must be an absolute http:// or https:// URL")
	case u.User != nil:
		f.problem("must not contain a user name or password")
	case u.RawQuery != "" || u.ForceQuery || strings.Contains(s, "#"):
		f.problem("must not have a query or fragment")
	}
	return strings.TrimRight(s, "/")
}

// positive returns the field's duration, def when it is not set, and reports one <= 0.
func (f field) positive(def time.Duration) time.Duration {
	v := f.duration(def)
	f.check(v > 0, "must be greater than 0")
	return v
}

// list returns one field per element of a list; nothing when the key is not set.
func (f field) list() []field {
	if f.null() {
		return nil
	}
	if f.val.Kind != yaml.SequenceNode {
		f.problem("must be a list, not " + describe(f.val))
		return nil
	}
	fs := make([]field, len(f.val.Content))
	for i, n := range f.val.Content {
		fs[i] = field{d: f.d, path: fmt.Sprintf("%s[%d]", f.path, i), val: resolve(n), at: n}
	}
	return fs
}

// mapping is a YAML mapping whose keys are read one by one; whatever is left unread when
// done is called is an unknown key.
type mapping struct {
	field
	entries []entry
	read    map[string]bool
}

type entry struct {
	key, val *yaml.Node
}

// mapping returns the field's keys; none when it is not set.
func (f field) mapping() *mapping {
	m := &mapping{field: f, read: make(map[string]bool)}
	if f.null() {
		return m
	}
	if f.val.Kind != yaml.MappingNode {
		f.problem("must be a mapping of keys, not " + describe(f.val))
		m.muted = true
		return m
	}
	seen := make(map[string]*yaml.Node)
	for i := 0; i+1 < len(f.val.Content); i += 2 {
		k, v := f.val.Content[i], f.val.Content[i+1]
		if k.ShortTag() == "!!merge" {
			continue
		}
		if first, dup := seen[k.Value]; dup {
			f.d.add(k, m.child(k.Value), fmt.Sprintf("duplicate key (first at line %d)", first.Line))
			continue
		}
		seen[k.Value] = k
		m.entries = append(m.entries, entry{k, v})
	}
	// Merge keys ("<<: *shop_defaults") fill in what the mapping does not set itself.
	m.merge(f.val, seen, map[*yaml.Node]bool{f.val: true})
	return m
}

// merge adds the entries that n's "<<" keys bring in and set does not hold yet. visited stops
// a mapping that merges itself, which the YAML parser lets through.
func (m *mapping) merge(n *yaml.Node, set map[string]*yaml.Node, visited map[*yaml.Node]bool) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].ShortTag() != "!!merge" {
			continue
		}
		v := resolve(n.Content[i+1])
		sources := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			sources = sources[:0]
			for _, c := range v.Content {
				sources = append(sources, resolve(c))
			}
		}
		for _, src := range sources {
			if src.Kind != yaml.MappingNode {
				m.d.add(n.Content[i+1], m.child("<<"), "must merge a mapping or a list of mappings")
				continue
			}
			if visited[src] {
				continue
			}
			visited[src] = true
			for j := 0; j+1 < len(src.Content); j += 2 {
				k := src.Content[j]
				if _, ok := set[k.Value]; !ok && k.ShortTag() != "!!merge" {
					set[k.Value] = k
					m.entries = append(m.entries, entry{k, src.Content[j+1]})
				}
			}
			m.merge(src, set, visited)
		}
	}
}

func (m *mapping) child(key string) string {
	if m.path == "" {
		return key
	}
	return m.path + "." + key
}

// get returns the field at key and marks the key as known.
func (m *mapping) get(key string) field {
	m.read[key] = true
	f := field{d: m.d, path: m.child(key), at: m.at, muted: m.muted}
	for _, e := range m.entries {
		if e.key.Value == key {
			f.val, f.at = resolve(e.val), e.val
			break
		}
	}
	return f
}

// done reports every key that was never read. explain may give a better message for a key
// (a supplier key that belongs to another kind); "" means "unknown key".
func (m *mapping) done(explain func(key string) string) {
	for _, e := range m.entries {
		if m.read[e.key.Value] {
			continue
		}
		msg := ""
		if explain != nil {
			msg = explain(e.key.Value)
		}
		if msg == "" {
			msg = "unknown key"
		}
		m.d.add(e.key, m.child(e.key.Value), msg)
	}
}
