package config

import (
	"errors"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// expander substitutes environment references in the scalar values of a parsed YAML tree.
// It works on nodes, never on the raw text, so a value from the environment stays one scalar
// whatever it contains ('#', ':', quotes, newlines) and cannot change the YAML structure.
//
// Syntax, in any part of a value:
//
//	${NAME}          the variable's value; "" when unset
//	${NAME:-default} the default when the variable is unset or empty; the default may itself
//	                 contain references
//	$${              a literal "${"
//
// A '$' not followed by '{' is an ordinary character, so "pa$word" needs no escaping.
// Substituted values are not expanded again.
type expander struct {
	lookup func(string) (string, bool)
	// refs records, per scalar, the variables its value referred to, so that a problem with
	// an empty or bad value can tell the operator which variable to fix.
	refs map[*yaml.Node][]string
	// bad records scalars whose references could not be parsed.
	bad map[*yaml.Node]error
}

func newExpander(lookup func(string) (string, bool)) *expander {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	return &expander{
		lookup: lookup,
		refs:   make(map[*yaml.Node][]string),
		bad:    make(map[*yaml.Node]error),
	}
}

// walk expands every scalar value under n. Mapping keys are names, not values, and are left
// alone. Aliases are not followed: the node they point to is expanded where it is defined,
// which visits every node once even in a self-referencing document.
func (e *expander) walk(n *yaml.Node) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			e.walk(c)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			e.walk(n.Content[i])
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		x := expansion{lookup: e.lookup}
		v, _, err := x.text(n.Value, false)
		if len(x.refs) > 0 {
			e.refs[n] = x.refs
		}
		if err != nil {
			e.bad[n] = err
			return
		}
		n.Value = v
	}
}

// expansion is the state of expanding one scalar.
type expansion struct {
	lookup func(string) (string, bool)
	refs   []string
}

var errUnclosed = errors.New("has a ${ without its closing }")

// text expands s up to its end or, when nested (inside a default), up to the '}' that closes
// the enclosing reference; it returns the expansion and what follows that '}'.
func (x *expansion) text(s string, nested bool) (val, rest string, err error) {
	var b strings.Builder
	for s != "" {
		switch {
		case strings.HasPrefix(s, "$${"):
			b.WriteString("${")
			s = s[3:]
		case strings.HasPrefix(s, "${"):
			var v string
			v, s, err = x.reference(s[2:])
			if err != nil {
				return "", "", err
			}
			b.WriteString(v)
		case nested && s[0] == '}':
			return b.String(), s[1:], nil
		default:
			b.WriteByte(s[0])
			s = s[1:]
		}
	}
	if nested {
		return "", "", errUnclosed
	}
	return b.String(), "", nil
}

// reference expands one reference; s follows its "${".
func (x *expansion) reference(s string) (val, rest string, err error) {
	n := 0
	for n < len(s) && isNameByte(s[n], n == 0) {
		n++
	}
	name := s[:n]
	if name == "" {
		return "", "", errors.New("has a ${...} that does not start with a variable name ([A-Za-z_][A-Za-z0-9_]*)")
	}
	if !slices.Contains(x.refs, name) {
		x.refs = append(x.refs, name)
	}
	val, _ = x.lookup(name)
	switch s = s[n:]; {
	case strings.HasPrefix(s, "}"):
		return val, s[1:], nil
	case strings.HasPrefix(s, ":-"):
		def, rest, err := x.text(s[2:], true)
		if err != nil {
			return "", "", err
		}
		if val == "" {
			val = def
		}
		return val, rest, nil
	case s == "":
		return "", "", errUnclosed
	default:
		return "", "", errors.New("has ${" + name + " followed by something other than } or :-default")
	}
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || !first && '0' <= c && c <= '9'
}
