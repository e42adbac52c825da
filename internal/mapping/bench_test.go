package mapping

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// benchCSV is a 100k-row mappings file: 50k SKUs, each with a preferred supplier and a
// fallback limited to a few countries.
func benchCSV(tb testing.TB) []byte {
	tb.Helper()
	var b bytes.Buffer
	b.WriteString(Header + "\n")
	for i := range 50000 {
		fmt.Fprintf(&b, "example.myshopify.com,SKU-%06d,acme,A-%06d,4.20,USD,1,1,\n", i, i)
		fmt.Fprintf(&b, "example.myshopify.com,SKU-%06d,beta,B-%06d,5.10,USD,2,2,US;CA;GB;DE\n", i, i)
	}
	return b.Bytes()
}

func benchRows(b *testing.B) []dropsync.Mapping {
	b.Helper()
	rows, err := Parse(bytes.NewReader(benchCSV(b)), knownSupplier, "")
	if err != nil {
		b.Fatalf("Parse: %v", err)
	}
	if len(rows) != 100000 {
		b.Fatalf("len(rows) = %d, want 100000", len(rows))
	}
	return rows
}

func benchSale() dropsync.Sale {
	return sale("DE", line(1, "SKU-000017", 1), line(2, "SKU-012345", 2), line(3, "SKU-049999", 1),
		line(4, "SKU-031337", 3), line(5, "NOT-MAPPED", 1))
}

func BenchmarkParse100k(b *testing.B) {
	data := benchCSV(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(data), knownSupplier, "example.myshopify.com"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormat100k(b *testing.B) {
	rows := benchRows(b)
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		if err := Format(&buf, rows); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewIndex100k(b *testing.B) {
	rows := benchRows(b)
	b.ReportAllocs()
	for b.Loop() {
		NewIndex(rows)
	}
}

// BenchmarkIndexResolve is the steady state: one index, many orders.
func BenchmarkIndexResolve(b *testing.B) {
	ix := NewIndex(benchRows(b))
	s := benchSale()
	check := stock("acme/A-012345")
	b.ReportAllocs()
	for b.Loop() {
		if p := ix.Resolve(s, check); len(p.PurchaseOrders) != 2 {
			b.Fatalf("plan = %v, want two purchase orders", describe(p))
		}
	}
}

// BenchmarkResolve100k is the package-level Resolve scanning all 100k rows for one order.
func BenchmarkResolve100k(b *testing.B) {
	rows := benchRows(b)
	s := benchSale()
	check := stock("acme/A-012345")
	b.ReportAllocs()
	for b.Loop() {
		if p := Resolve(s, rows, check); len(p.PurchaseOrders) != 2 {
			b.Fatalf("plan = %v, want two purchase orders", describe(p))
		}
	}
}
