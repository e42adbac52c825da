package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dropsync/dropsync/internal/dropsync"
)

const hdr = Header + "\n"

func knownSupplier(id string) bool { return id == "acme" || id == "beta" }

// row renders a mapping as a comparable one-liner (decimals are not comparable with ==).
func row(m dropsync.Mapping) string {
	return fmt.Sprintf("%d %s %s %s %s %s %s x%d p%d [%s]", m.Line, m.Shop, m.SKU, m.Supplier,
		m.SupplierSKU, m.UnitCost.String(), m.Currency, m.Quantity, m.Priority, strings.Join(m.Countries, ";"))
}

func rowsOf(ms []dropsync.Mapping) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = row(m)
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		csv  string
		shop string
		want []string
	}{
		{
			name: "single row",
			csv:  hdr + "example.myshopify.com,TS-R-M,acme,ACME-TS-R-M,4.20,USD,1,1,US;CA\n",
			want: []string{"2 example.myshopify.com TS-R-M acme ACME-TS-R-M 4.2 USD x1 p1 [US;CA]"},
		},
		{
			name: "BOM, blank lines, spreadsheet blank row and CRLF",
			csv: "\xEF\xBB\xBF" + Header + "\r\n\r\n" +
				"example.myshopify.com,TS-R-M,acme,ACME-TS-R-M,4.20,USD,1,1,\r\n" +
				",,,,,,,,\r\n\r\n" +
				"example.myshopify.com,MUG,beta,B-MUG,3,EUR,2,,\r\n",
			want: []string{
				"6 example.myshopify.com MUG beta B-MUG 3 EUR x2 p1 []",
				"3 example.myshopify.com TS-R-M acme ACME-TS-R-M 4.2 USD x1 p1 []",
			},
		},
		{
			name: "empty priority means 1, countries upper-cased and deduplicated, spaces trimmed",
			csv:  hdr + " Example.myshopify.com , SKU-1 ,acme, A-1 , 0.50 ,USD, 3 ,, de; fr ;DE;\n",
			want: []string{"2 example.myshopify.com SKU-1 acme A-1 0.5 USD x3 p1 [DE;FR]"},
		},
		{
			name: "variant SKU and a bundle of two rows with a fallback",
			csv: hdr +
				"example.myshopify.com,variant:4242,beta,B-1,5.00,USD,1,2,\n" +
				"example.myshopify.com,variant:4242,acme,A-1,2.00,USD,1,1,\n" +
				"example.myshopify.com,variant:4242,acme,A-2,1.00,USD,2,1,\n",
			want: []string{
				"3 example.myshopify.com variant:4242 acme A-1 2 USD x1 p1 []",
				"4 example.myshopify.com variant:4242 acme A-2 1 USD x2 p1 []",
				"2 example.myshopify.com variant:4242 beta B-1 5 USD x1 p2 []",
			},
		},
		{
			name: "sorted by shop, sku, priority, line",
			csv: hdr +
				"b.myshopify.com,A,acme,X,1,USD,1,1,\n" +
				"a.myshopify.com,B,acme,X,1,USD,1,1,\n" +
				"a.myshopify.com,A,acme,Y,1,USD,1,3,\n" +
				"a.myshopify.com,A,acme,X,1,USD,1,1,\n",
			want: []string{
				"5 a.myshopify.com A acme X 1 USD x1 p1 []",
				"4 a.myshopify.com A acme Y 1 USD x1 p3 []",
				"3 a.myshopify.com B acme X 1 USD x1 p1 []",
				"2 b.myshopify.com A acme X 1 USD x1 p1 []",
			},
		},
		{
			name: "shop filter matches case-insensitively",
			csv:  hdr + "example.myshopify.com,A,acme,X,1,USD,1,1,\n",
			shop: "Example.myshopify.com",
			want: []string{"2 example.myshopify.com A acme X 1 USD x1 p1 []"},
		},
		{
			name: "same supplier SKU at two priorities is not a duplicate",
			csv: hdr + "example.myshopify.com,A,acme,X,1,USD,1,1,\n" +
				"example.myshopify.com,A,beta,X,1,USD,1,2,\n",
			want: []string{
				"2 example.myshopify.com A acme X 1 USD x1 p1 []",
				"3 example.myshopify.com A beta X 1 USD x1 p2 []",
			},
		},
		{
			name: "Kosovo's XK is accepted",
			csv:  hdr + "example.myshopify.com,A,acme,X,1,USD,1,1,XK;GB\n",
			want: []string{"2 example.myshopify.com A acme X 1 USD x1 p1 [XK;GB]"},
		},
		{
			name: "header only",
			csv:  hdr,
			want: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.csv), knownSupplier, tt.shop)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if g, w := strings.Join(rowsOf(got), "\n"), strings.Join(tt.want, "\n"); g != w {
				t.Errorf("rows:\ngot\n%s\nwant\n%s", g, w)
			}
		})
	}
}

func TestParseProblems(t *testing.T) {
	good := "example.myshopify.com,TS-1,acme,A-1,4.20,USD,1,1,\n"
	tests := []struct {
		name string
		csv  string
		shop string
		want []string // every problem, exactly as Problem.String formats it
	}{
		{
			name: "wrong column count",
			csv:  hdr + good + "example.myshopify.com,TS-2,acme,A-2,4.20,USD,1,1\n",
			want: []string{"line 3: row has 8 columns, want 9 (" + Header + ")"},
		},
		{
			name: "negative quantity",
			csv:  hdr + "example.myshopify.com,TS-1,acme,A-1,4.20,USD,-2,1,\n",
			want: []string{`line 2: quantity: must be a positive whole number, got "-2"`},
		},
		{
			name: "zero, missing and huge quantity",
			csv: hdr + "example.myshopify.com,TS-1,acme,A-1,4.20,USD,0,1,\n" +
				"example.myshopify.com,TS-2,acme,A-1,4.20,USD,,1,\n" +
				"example.myshopify.com,TS-3,acme,A-1,4.20,USD,1000000,1,\n",
			want: []string{
				`line 2: quantity: must be a positive whole number, got "0"`,
				`line 3: quantity: must be a positive whole number, got ""`,
				`line 4: quantity: must be at most 100000, got "1000000"`,
			},
		},
		{
			name: "unknown supplier",
			csv:  hdr + "example.myshopify.com,TS-1,zeta,A-1,4.20,USD,1,1,\n",
			want: []string{`line 2: supplier: unknown supplier "zeta" (not among the configured suppliers)`},
		},
		{
			name: "bad country codes, UK with a hint",
			csv:  hdr + "example.myshopify.com,TS-1,acme,A-1,4.20,USD,1,1,DE;XX;uk\n",
			want: []string{
				`line 2: countries: "XX" is not an ISO 3166-1 alpha-2 country code`,
				`line 2: countries: "UK" is not an ISO 3166-1 alpha-2 country code (use GB for the United Kingdom)`,
			},
		},
		{
			name: "duplicate rows",
			csv:  hdr + good + good,
			want: []string{"line 3: duplicate of line 2 (same shop, sku, priority and supplier_sku)"},
		},
		{
			name: "duplicate of the second row of a bundle",
			csv: hdr + good + "example.myshopify.com,TS-1,acme,A-2,1.00,USD,1,1,\n" +
				"example.myshopify.com,TS-1,acme,A-2,1.00,USD,2,,\n",
			want: []string{"line 4: duplicate of line 3 (same shop, sku, priority and supplier_sku)"},
		},
		{
			name: "bundle across suppliers",
			csv: hdr + good + "example.myshopify.com,TS-1,beta,B-1,4.20,USD,1,1,\n" +
				"example.myshopify.com,TS-1,beta,B-2,4.20,USD,1,2,\n",
			want: []string{`line 3: supplier: "beta" but line 2 uses "acme" for sku "TS-1" priority 1: the rows of one sku and priority form a bundle and must use one supplier`},
		},
		{
			name: "header with a missing column",
			csv:  "shop,sku,supplier,supplier_sku,unit_cost,currency,quantity,priority\n" + good,
			want: []string{`line 1: header: missing column "countries"; the header must be exactly ` + Header},
		},
		{
			name: "header with an extra column",
			csv:  Header + ",note\n" + good,
			want: []string{`line 1: header: unexpected column "note"; the header must be exactly ` + Header},
		},
		{
			name: "header with reordered columns",
			csv:  "shop,sku,supplier_sku,supplier,unit_cost,currency,quantity,priority,countries\n" + good,
			want: []string{`line 1: header: column 3 is "supplier_sku", want "supplier" (columns out of order); the header must be exactly ` + Header},
		},
		{
			name: "no header at all",
			csv:  good,
			want: []string{`line 1: header: missing column "shop", "sku", "supplier", "supplier_sku", "unit_cost", "currency", "quantity", "priority", "countries"; unexpected column "example.myshopify.com", "TS-1", "acme", "A-1", "4.20", "USD", "1", "1", ""; the header must be exactly ` + Header},
		},
		{
			name: "empty file",
			csv:  "\xEF\xBB\xBF\n\n",
			want: []string{"line 1: file is empty; the first line must be the header " + Header},
		},
		{
			name: "bad decimals",
			csv: hdr + "example.myshopify.com,TS-1,acme,A-1,4;20,USD,1,1,\n" +
				"example.myshopify.com,TS-2,acme,A-1,-1,USD,1,1,\n" +
				"example.myshopify.com,TS-3,acme,A-1,1e3,USD,1,1,\n" +
				"example.myshopify.com,TS-4,acme,A-1,1.2.3,USD,1,1,\n" +
				"example.myshopify.com,TS-5,acme,A-1,,USD,1,1,\n",
			want: []string{
				`line 2: unit_cost: must be a non-negative decimal such as 4.20, got "4;20"`,
				`line 3: unit_cost: must be a non-negative decimal such as 4.20, got "-1"`,
				`line 4: unit_cost: must be a non-negative decimal such as 4.20, got "1e3"`,
				`line 5: unit_cost: must be a non-negative decimal such as 4.20, got "1.2.3"`,
				`line 6: unit_cost: must be a non-negative decimal such as 4.20, got ""`,
			},
		},
		{
			name: "shop mismatch",
			csv:  hdr + good + "other.myshopify.com,TS-1,acme,A-1,4.20,USD,1,1,\n",
			shop: "example.myshopify.com",
			want: []string{`line 3: shop: is "other.myshopify.com" but these mappings are for "example.myshopify.com"`},
		},
		{
			name: "shop that is not a myshopify domain",
			csv:  hdr + "example.com,TS-1,acme,A-1,4.20,USD,1,1,\n",
			want: []string{`line 2: shop: must be the shop's *.myshopify.com domain, got "example.com"`},
		},
		{
			name: "empty required fields",
			csv:  hdr + ",,,,4.20,USD,1,1,\n",
			want: []string{
				"line 2: shop: is required",
				"line 2: sku: is required (use variant:<id> for a variant without a SKU)",
				"line 2: supplier: is required",
				"line 2: supplier_sku: is required",
			},
		},
		{
			name: "bad currency, priority and variant SKU",
			csv: hdr + "example.myshopify.com,TS-1,acme,A-1,4.20,usd,1,0,\n" +
				"example.myshopify.com,variant:abc,acme,A-1,4.20,USD,1,x,\n",
			want: []string{
				`line 2: currency: must be a 3-letter upper-case ISO 4217 code such as USD, got "usd"`,
				`line 2: priority: must be a whole number of at least 1 (empty means 1), got "0"`,
				`line 3: sku: a variant SKU must be variant:<numeric variant id>, got "variant:abc"`,
				`line 3: priority: must be a whole number of at least 1 (empty means 1), got "x"`,
			},
		},
		{
			name: "broken quoting",
			csv:  hdr + good + "example.myshopify.com,TS\"2,acme,A-1,4.20,USD,1,1,\n" + good,
			want: []string{
				`line 3: not valid CSV: a " inside a field that is not quoted (quote the field and double the " inside it)`,
				"line 4: duplicate of line 2 (same shop, sku, priority and supplier_sku)",
			},
		},
		{
			name: "unclosed quote",
			csv:  hdr + good + "example.myshopify.com,\"TS-2,acme,A-1,4.20,USD,1,1,\n",
			want: []string{`line 3: not valid CSV: a quoted field is not closed, or has text after its closing "`},
		},
		{
			name: "every bad row, good rows between them",
			csv: hdr + "example.myshopify.com,TS-0,acme,A-1,4.20,USD,x,1,\n" + good +
				"example.myshopify.com,TS-3,acme,A-1,4.20,USD,1,1,ZZ\n",
			want: []string{
				`line 2: quantity: must be a positive whole number, got "x"`,
				`line 4: countries: "ZZ" is not an ISO 3166-1 alpha-2 country code`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := Parse(strings.NewReader(tt.csv), knownSupplier, tt.shop)
			if rows != nil {
				t.Errorf("rows = %v, want nil (never a partial result)", rowsOf(rows))
			}
			var de *dropsync.Error
			if !errors.As(err, &de) || de.Code != dropsync.EINVALID {
				t.Fatalf("err = %v, want a *dropsync.Error with code %q", err, dropsync.EINVALID)
			}
			var probs *Problems
			if !errors.As(err, &probs) {
				t.Fatalf("err = %T, want it to wrap *Problems", err)
			}
			got := make([]string, len(*probs))
			for i, p := range *probs {
				got[i] = p.String()
			}
			if g, w := strings.Join(got, "\n"), strings.Join(tt.want, "\n"); g != w {
				t.Errorf("problems:\ngot\n%s\nwant\n%s", g, w)
			}
			if g, w := probs.Error(), strings.Join(tt.want, "\n"); g != w {
				t.Errorf("Error():\ngot\n%s\nwant\n%s", g, w)
			}
			if msg := dropsync.ErrorMessage(err); !strings.Contains(msg, tt.want[0]) {
				t.Errorf("ErrorMessage = %q, want it to contain %q", msg, tt.want[0])
			}
		})
	}
}

func TestParseNilKnownSupplierAcceptsAny(t *testing.T) {
	got, err := Parse(strings.NewReader(hdr+"example.myshopify.com,A,zeta,X,1,USD,1,1,\n"), nil, "")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(got) != 1 || got[0].Supplier != "zeta" {
		t.Errorf("got %v, want one row of supplier zeta", rowsOf(got))
	}
}

func TestProblemsErrorIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(hdr)
	for i := range 150 {
		fmt.Fprintf(&b, "example.myshopify.com,S-%d,acme,A,1,USD,-1,1,\n", i)
	}
	_, err := Parse(strings.NewReader(b.String()), knownSupplier, "")
	var probs *Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v, want *Problems", err)
	}
	if got, want := len(*probs), 150; got != want {
		t.Errorf("len(problems) = %d, want %d", got, want)
	}
	lines := strings.Split(probs.Error(), "\n")
	if got, want := len(lines), maxListed+1; got != want {
		t.Errorf("Error() has %d lines, want %d", got, want)
	}
	if got, want := lines[len(lines)-1], "… and 50 more problems"; got != want {
		t.Errorf("last line = %q, want %q", got, want)
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestParseReadError(t *testing.T) {
	cause := errors.New("connection reset")
	_, err := Parse(failingReader{cause}, knownSupplier, "")
	if !errors.Is(err, cause) {
		t.Fatalf("err = %v, want it to wrap %v", err, cause)
	}
	if got := dropsync.ErrorCode(err); got == dropsync.EINVALID {
		t.Errorf("ErrorCode = %q, want a read failure not to be blamed on the file", got)
	}
}

func TestFormat(t *testing.T) {
	in := hdr +
		"example.myshopify.com,TS-1,beta,B-1,5.5,EUR,1,2,DE;AT\n" +
		"example.myshopify.com,TS-1,acme,A-1,4.20,USD,3,1,\n" +
		"example.myshopify.com,\"SKU, with comma\",acme,A-2,0.12345,USD,1,,\n"
	want := hdr +
		"example.myshopify.com,\"SKU, with comma\",acme,A-2,0.12345,USD,1,1,\n" +
		"example.myshopify.com,TS-1,acme,A-1,4.20,USD,3,1,\n" +
		"example.myshopify.com,TS-1,beta,B-1,5.50,EUR,1,2,DE;AT\n"
	rows, err := Parse(strings.NewReader(in), knownSupplier, "")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var buf bytes.Buffer
	if err := Format(&buf, rows); err != nil {
		t.Fatalf("Format: %v", err)
	}
	if got := buf.String(); got != want {
		t.Errorf("Format:\ngot\n%s\nwant\n%s", got, want)
	}
	again, err := Parse(&buf, knownSupplier, "")
	if err != nil {
		t.Fatalf("Parse(Format): %v", err)
	}
	// Lines differ after a round trip; everything else must not.
	for i := range again {
		again[i].Line, rows[i].Line = 0, 0
	}
	if got, want := strings.Join(rowsOf(again), "\n"), strings.Join(rowsOf(rows), "\n"); got != want {
		t.Errorf("round trip:\ngot\n%s\nwant\n%s", got, want)
	}
}

func TestFormatDoesNotReorderInput(t *testing.T) {
	rows := []dropsync.Mapping{
		{Shop: "b.myshopify.com", SKU: "A", Supplier: "acme", SupplierSKU: "X", Currency: "USD", Quantity: 1, Priority: 1},
		{Shop: "a.myshopify.com", SKU: "A", Supplier: "acme", SupplierSKU: "X", Currency: "USD", Quantity: 1, Priority: 1},
	}
	var buf bytes.Buffer
	if err := Format(&buf, rows); err != nil {
		t.Fatalf("Format: %v", err)
	}
	if got, want := rows[0].Shop, "b.myshopify.com"; got != want {
		t.Errorf("rows[0].Shop = %q, want %q", got, want)
	}
	if got, want := buf.String(), hdr+"a.myshopify.com,A,acme,X,0.00,USD,1,1,\nb.myshopify.com,A,acme,X,0.00,USD,1,1,\n"; got != want {
		t.Errorf("Format:\ngot\n%s\nwant\n%s", got, want)
	}
}

func TestKnownCountry(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"US", true}, {"GB", true}, {"DE", true}, {"BR", true}, {"SS", true}, {"AX", true},
		{"XK", true}, {"UK", false}, {"XX", false}, {"EU", false}, {"ZZ", false}, {"us", false}, {"", false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			if got := KnownCountry(tt.code); got != tt.want {
				t.Errorf("KnownCountry(%q) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
	if got, want := len(countries), 249+3; got != want {
		t.Errorf("len(countries) = %d, want %d (249 assigned codes plus AC, TA, XK)", got, want)
	}
}
