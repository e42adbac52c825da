package suppliertest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// GoldenJSON compares a JSON body a connector sent with the golden file testdata/name, the
// body indented (whitespace only: key order, escaping and number formats are as sent). With
// update it first rewrites the file; a test passes its own -update flag, so that a change
// to what is sent is refreshed with go test -update.
func GoldenJSON(t testing.TB, name string, body []byte, update bool) {
	t.Helper()
	var got bytes.Buffer
	if err := json.Indent(&got, body, "", "  "); err != nil {
		t.Fatalf("sent body is not JSON: %v\n%s", err, body)
	}
	got.WriteByte('\n')

	path := filepath.Join("testdata", name)
	if update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("request body differs from %s (run go test -update if the change is intended):\n got:\n%s\nwant:\n%s", path, got.Bytes(), want)
	}
}
