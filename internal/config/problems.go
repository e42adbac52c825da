package config

import "strings"

// Problem is one thing wrong with a config, named by its key path ("shops[0].domain").
// Message never contains a configured value, so a secret cannot leak through it.
type Problem struct {
	Path    string
	Message string
}

// String renders the problem as "path: message".
func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Problems is every problem found in a config, in the order their keys appear in the file
// (a missing key is placed where its enclosing mapping is). Load and Parse return it as a
// *Problems error so that one run of `dropsync check-config` shows everything to fix.
type Problems []Problem

// Error prints one problem per line.
func (ps *Problems) Error() string {
	lines := make([]string, len(*ps))
	for i, p := range *ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
