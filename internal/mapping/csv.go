// Package mapping reads and writes the merchant's supplier mappings CSV and resolves an
// order's lines to purchase orders: which supplier ships which line, falling back to a
// higher priority when the preferred supplier is out of stock or does not ship to the
// destination. It is pure domain logic: the store, the admin API and the jobs call it.
package mapping

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// Header is the first line of every mappings CSV, a published contract: these columns, in
// this order, no more and no fewer.
const Header = "shop,sku,supplier,supplier_sku,unit_cost,currency,quantity,priority,countries"

// Column positions in Header.
const (
	colShop = iota
	colSKU
	colSupplier
	colSupplierSKU
	colUnitCost
	colCurrency
	colQuantity
	colPriority
	colCountries
	numColumns
)

// MaxQuantity bounds a row's quantity so that a line quantity times it cannot overflow and a
// typo such as 10000000 is caught before a supplier sees it.
const MaxQuantity = 100000

// maxListed bounds how many problems Problems.Error spells out: a file that is wrong on every
// one of 100k rows should not become a 5 MB error message. Problems itself keeps them all.
const maxListed = 100

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Problem is one thing wrong with a mappings CSV, at a line of the file and, when it is about
// one field, in a column.
type Problem struct {
	Line    int    `json:"line"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

// String formats the problem as "line 7: quantity: must be a positive whole number, got \"-2\"".
func (p Problem) String() string {
	if p.Column == "" {
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	return fmt.Sprintf("line %d: %s: %s", p.Line, p.Column, p.Message)
}

// Problems is every problem found in a mappings CSV, in line order. Parse returns it wrapped
// in a *dropsync.Error with code EINVALID.
type Problems []Problem

// Error lists the problems one per line (the first maxListed of them, then a count).
func (ps *Problems) Error() string {
	var b strings.Builder
	for i, p := range *ps {
		if i == maxListed {
			fmt.Fprintf(&b, "\n… and %d more problems", len(*ps)-maxListed)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Parse reads a mappings CSV. knownSupplier reports whether a supplier id is configured (nil
// accepts any). shop, when non-empty, is the only shop the file may name (the admin API's PUT
// for one shop; a row for another shop is a bad row). It returns every bad row, never a
// partial result: the error is a *dropsync.Error with code EINVALID wrapping *Problems. An
// error reading r is returned wrapped as it is. Rows come back sorted by shop, SKU, priority
// and line; shops are lower-cased and countries upper-cased.
func Parse(r io.Reader, knownSupplier func(id string) bool, shop string) ([]dropsync.Mapping, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // counted here, so a short row is a problem with its line, not a stop
	cr.ReuseRecord = true

	p := parser{
		knownSupplier: knownSupplier,
		shop:          strings.ToLower(strings.TrimSpace(shop)),
		bundles:       map[bundleKey]int{},
	}
	headerDone := false
	lastOffset := int64(-1)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, fmt.Errorf("read mappings CSV: %w", err)
			}
			p.add(pe.StartLine, "", "not valid CSV: "+syntaxProblem(pe.Err))
			if !headerDone {
				break // without a header no row can be read
			}
			// encoding/csv goes on after a syntax error; stop if it ever does not.
			if off := cr.InputOffset(); off != lastOffset {
				lastOffset = off
				continue
			}
			break
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if !headerDone {
			headerDone = true
			if !p.header(line, rec) {
				break // rows under a wrong header would be read into the wrong fields
			}
			continue
		}
		p.row(line, rec)
	}
	if !headerDone && len(p.problems) == 0 {
		p.add(1, "", "file is empty; the first line must be the header "+Header)
	}
	if len(p.problems) > 0 {
		slices.SortStableFunc(p.problems, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
		probs := Problems(p.problems)
		return nil, &dropsync.Error{
			Code:    dropsync.EINVALID,
			Message: fmt.Sprintf("mappings CSV rejected (%d problems)", len(probs)),
			Err:     &probs,
		}
	}
	// Lines are unique within a file, so an unstable sort gives one order.
	slices.SortFunc(p.rows, compareRows)
	return p.rows, nil
}

// Format writes rows as a mappings CSV that Parse reads back to the same rows: header first,
// rows sorted by shop, SKU, priority and line. rows itself is not reordered.
func Format(w io.Writer, rows []dropsync.Mapping) error {
	// Sort pointers, not the rows: a stable sort of large structs moves a lot of memory, and
	// Line, the last key, may be unset on rows that did not come from a file.
	sorted := make([]*dropsync.Mapping, len(rows))
	for i := range rows {
		sorted[i] = &rows[i]
	}
	slices.SortStableFunc(sorted, func(a, b *dropsync.Mapping) int { return compareRows(*a, *b) })
	cw := csv.NewWriter(w)
	if err := cw.Write(strings.Split(Header, ",")); err != nil {
		return fmt.Errorf("write mappings CSV: %w", err)
	}
	rec := make([]string, numColumns)
	for _, m := range sorted {
		rec[colShop] = m.Shop
		rec[colSKU] = m.SKU
		rec[colSupplier] = m.Supplier
		rec[colSupplierSKU] = m.SupplierSKU
		rec[colUnitCost] = formatCost(m.UnitCost)
		rec[colCurrency] = m.Currency
		rec[colQuantity] = strconv.Itoa(m.Quantity)
		rec[colPriority] = ""
		if m.Priority > 0 {
			rec[colPriority] = strconv.Itoa(m.Priority)
		}
		rec[colCountries] = strings.Join(m.Countries, ";")
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write mappings CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write mappings CSV: %w", err)
	}
	return nil
}

// formatCost keeps at least two decimals ("4.20", not "4.2") and every decimal the merchant
// gave, so that a round trip through Parse and Format does not change a cost.
func formatCost(d decimal.Decimal) string {
	places := int32(2)
	if e := -d.Exponent(); e > places {
		places = e
	}
	return d.StringFixed(places)
}

// compareRows orders rows by shop, SKU, priority and line.
func compareRows(a, b dropsync.Mapping) int {
	return cmp.Or(
		cmp.Compare(a.Shop, b.Shop),
		cmp.Compare(a.SKU, b.SKU),
		cmp.Compare(a.Priority, b.Priority),
		cmp.Compare(a.Line, b.Line),
	)
}

// syntaxProblem says what is wrong with a line encoding/csv cannot read, in words a merchant
// editing the file can act on.
func syntaxProblem(err error) string {
	switch {
	case errors.Is(err, csv.ErrBareQuote):
		return `a " inside a field that is not quoted (quote the field and double the " inside it)`
	case errors.Is(err, csv.ErrQuote):
		return `a quoted field is not closed, or has text after its closing "`
	}
	return err.Error()
}

// blank reports whether a record holds nothing: spreadsheets save empty rows as ",,,,".
func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// bundleKey identifies a bundle: the rows of one SKU with one priority.
type bundleKey struct {
	shop, sku string
	priority  int
}

// bundleSeen is what the file said so far about one bundle: its first supplier and the
// supplier SKUs of its rows. Bundles are a few rows, so a slice beats a second map.
type bundleSeen struct {
	supplier     string
	supplierLine int
	first        seenRow   // most bundles are one row: keep it without an allocation
	more         []seenRow // the rows after the first
}

// find returns the line of the bundle's row with the supplier SKU, 0 if there is none.
func (b *bundleSeen) find(supplierSKU string) int {
	if b.first.line != 0 && b.first.supplierSKU == supplierSKU {
		return b.first.line
	}
	for _, r := range b.more {
		if r.supplierSKU == supplierSKU {
			return r.line
		}
	}
	return 0
}

func (b *bundleSeen) add(r seenRow) {
	if b.first.line == 0 {
		b.first = r
		return
	}
	b.more = append(b.more, r)
}

type seenRow struct {
	supplierSKU string
	line        int
}

type parser struct {
	knownSupplier func(string) bool
	shop          string
	rows          []dropsync.Mapping
	problems      []Problem
	bundles       map[bundleKey]int // index in seen
	seen          []bundleSeen
	fields        [numColumns]string // the row being checked, trimmed
}

func (p *parser) add(line int, column, msg string) {
	p.problems = append(p.problems, Problem{Line: line, Column: column, Message: msg})
}

// header checks the header line and says precisely what is wrong with it.
func (p *parser) header(line int, rec []string) bool {
	want := strings.Split(Header, ",")
	got := make([]string, len(rec))
	for i, f := range rec {
		got[i] = strings.TrimSpace(f)
	}
	if slices.Equal(got, want) {
		return true
	}
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, strconv.Quote(w))
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, strconv.Quote(g))
		}
	}
	var why []string
	if len(missing) > 0 {
		why = append(why, "missing column "+strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		why = append(why, "unexpected column "+strings.Join(extra, ", "))
	}
	if len(why) == 0 {
		for i := range want {
			if i < len(got) && got[i] != want[i] {
				why = append(why, fmt.Sprintf("column %d is %q, want %q (columns out of order)", i+1, got[i], want[i]))
				break
			}
		}
		if len(why) == 0 { // the same names, one of them twice
			why = append(why, "a column appears twice")
		}
	}
	p.add(line, "", "header: "+strings.Join(why, "; ")+"; the header must be exactly "+Header)
	return false
}

// row checks one data row and, when it is good, keeps it.
func (p *parser) row(line int, rec []string) {
	if len(rec) != numColumns {
		p.add(line, "", fmt.Sprintf("row has %d columns, want %d (%s)", len(rec), numColumns, Header))
		return
	}
	f := p.fields[:numColumns]
	for i, v := range rec {
		f[i] = strings.TrimSpace(v)
	}
	before := len(p.problems)
	m := dropsync.Mapping{Line: line}

	m.Shop = strings.ToLower(f[colShop])
	switch {
	case m.Shop == "":
		p.add(line, "shop", "is required")
	case !shopDomain(m.Shop):
		p.add(line, "shop", fmt.Sprintf("must be the shop's *.myshopify.com domain, got %q", f[colShop]))
	case p.shop != "" && m.Shop != p.shop:
		p.add(line, "shop", fmt.Sprintf("is %q but these mappings are for %q", m.Shop, p.shop))
	}

	m.SKU = f[colSKU]
	if m.SKU == "" {
		p.add(line, "sku", "is required (use variant:<id> for a variant without a SKU)")
	} else if id, ok := strings.CutPrefix(m.SKU, "variant:"); ok && !positiveDigits(id) {
		p.add(line, "sku", fmt.Sprintf("a variant SKU must be variant:<numeric variant id>, got %q", m.SKU))
	}

	m.Supplier = f[colSupplier]
	if m.Supplier == "" {
		p.add(line, "supplier", "is required")
	} else if p.knownSupplier != nil && !p.knownSupplier(m.Supplier) {
		p.add(line, "supplier", fmt.Sprintf("unknown supplier %q (not among the configured suppliers)", m.Supplier))
	}

	m.SupplierSKU = f[colSupplierSKU]
	if m.SupplierSKU == "" {
		p.add(line, "supplier_sku", "is required")
	}

	if cost, ok := parseCost(f[colUnitCost]); ok {
		m.UnitCost = cost
	} else {
		p.add(line, "unit_cost", fmt.Sprintf("must be a non-negative decimal such as 4.20, got %q", f[colUnitCost]))
	}

	m.Currency = f[colCurrency]
	if !upperLetters(m.Currency, 3) {
		p.add(line, "currency", fmt.Sprintf("must be a 3-letter upper-case ISO 4217 code such as USD, got %q", f[colCurrency]))
	}

	if q, ok := positiveInt(f[colQuantity]); !ok {
		p.add(line, "quantity", fmt.Sprintf("must be a positive whole number, got %q", f[colQuantity]))
	} else if q > MaxQuantity {
		p.add(line, "quantity", fmt.Sprintf("must be at most %d, got %q", MaxQuantity, f[colQuantity]))
	} else {
		m.Quantity = q
	}

	priorityOK := true
	if f[colPriority] == "" {
		m.Priority = 1
	} else if pr, ok := positiveInt(f[colPriority]); ok {
		m.Priority = pr
	} else {
		priorityOK = false
		p.add(line, "priority", fmt.Sprintf("must be a whole number of at least 1 (empty means 1), got %q", f[colPriority]))
	}

	if f[colCountries] != "" {
		for part := range strings.SplitSeq(f[colCountries], ";") {
			c := strings.ToUpper(strings.TrimSpace(part))
			switch {
			case c == "":
				continue // "DE;FR;" is a slip, not a problem
			case !KnownCountry(c):
				p.add(line, "countries", countryProblem(c))
			case !slices.Contains(m.Countries, c):
				m.Countries = append(m.Countries, c)
			}
		}
	}

	// Rows across the file are compared only on keys that parsed, so that one typo does not
	// also show up as a duplicate of something else.
	if m.Shop != "" && m.SKU != "" && priorityOK {
		p.compare(m)
	}

	if len(p.problems) == before {
		p.rows = append(p.rows, m)
	}
}

// compare checks a row against the earlier rows of its bundle: no duplicate supplier SKU,
// no second supplier.
func (p *parser) compare(m dropsync.Mapping) {
	k := bundleKey{shop: m.Shop, sku: m.SKU, priority: m.Priority}
	i, ok := p.bundles[k]
	if !ok {
		i = len(p.seen)
		p.bundles[k] = i
		p.seen = append(p.seen, bundleSeen{})
	}
	b := &p.seen[i]
	if m.SupplierSKU != "" {
		if first := b.find(m.SupplierSKU); first > 0 {
			p.add(m.Line, "", fmt.Sprintf("duplicate of line %d (same shop, sku, priority and supplier_sku)", first))
		}
		b.add(seenRow{supplierSKU: m.SupplierSKU, line: m.Line})
	}
	if m.Supplier == "" {
		return
	}
	if b.supplier == "" {
		b.supplier, b.supplierLine = m.Supplier, m.Line
	} else if b.supplier != m.Supplier {
		p.add(m.Line, "supplier", fmt.Sprintf("%q but line %d uses %q for sku %q priority %d: the rows of one sku and priority form a bundle and must use one supplier",
			m.Supplier, b.supplierLine, b.supplier, m.SKU, m.Priority))
	}
}

// shopDomain reports whether s looks like a Shopify shop domain: <name>.myshopify.com.
func shopDomain(s string) bool {
	name, ok := strings.CutSuffix(s, ".myshopify.com")
	if !ok || name == "" || name[0] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// parseCost accepts plain decimals only ("4", "4.20", "0.5"): no sign, exponent or
// thousands separator, so that "1e3" or "1,50" is a problem rather than a surprise.
func parseCost(s string) (decimal.Decimal, bool) {
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return decimal.Decimal{}, false
		}
	}
	if digits == 0 || dots > 1 {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, false
	}
	return d, true
}

// positiveInt parses a whole number of at least 1 written with digits only.
func positiveInt(s string) (int, bool) {
	if !allDigits(s) {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

func positiveDigits(s string) bool {
	_, ok := positiveInt(s)
	return ok
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func upperLetters(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
