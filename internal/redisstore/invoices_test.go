package redisstore_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/invoice"
	"github.com/dropsync/dropsync/internal/redisstore"
	"github.com/dropsync/dropsync/internal/redistest"
)

const invShop = "moss-and-fern.myshopify.com"

var invSeller = invoice.Seller{Name: "Moss & Fern GmbH", Address: "Torstraße 140\n10119 Berlin", VATID: "DE123456789"}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time   { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time)  { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func newClock(t time.Time) *clock { return &clock{t: t} }

func invStore(t testing.TB) (*redisstore.Store, *redis.Client, *clock) {
	t.Helper()
	rdb := redistest.Client(t)
	c := newClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
	return redisstore.New(rdb, c.now), rdb, c
}

// invSale is a real-shaped order: two lines of a shop that charges tax on top (two rates),
// a discount code spread over the lines and taxed shipping.
func invSale(id int64) dropsync.Sale {
	d := decimal.RequireFromString
	return dropsync.Sale{
		Shop: invShop, ID: id, Name: "#" + strconv.FormatInt(1000+id, 10),
		CreatedAt: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 11, 27, 9, 1, 0, 0, time.UTC),
		FinancialStatus: "paid", Currency: "EUR", PresentmentCurrency: "EUR", Email: "zoe@example.com",
		BillingAddress: &dropsync.Address{FirstName: "Zoë", LastName: "Müller", Address1: "ul. Piotrkowska 104",
			City: "Łódź", Zip: "90-006", Country: "Poland", CountryCode: "PL"},
		Lines: []dropsync.Line{
			{ID: id*10 + 1, SKU: "TEE-M", Title: "Organic T-Shirt", Quantity: 2, Price: d("20.00"),
				DiscountAllocations: []dropsync.DiscountAllocation{{Amount: d("4.00")}},
				TaxLines:            []dropsync.TaxLine{{Title: "VAT", Rate: d("0.19"), Price: d("6.84")}}},
			{ID: id*10 + 2, SKU: "BOOK", Title: "Field Guide", Quantity: 1, Price: d("10.00"),
				DiscountAllocations: []dropsync.DiscountAllocation{{Amount: d("1.00")}},
				TaxLines:            []dropsync.TaxLine{{Title: "VAT", Rate: d("0.07"), Price: d("0.63")}}},
		},
		ShippingLines: []dropsync.ShippingLine{{ID: id*10 + 9, Title: "DHL Paket", Price: d("5.00"), DiscountedPrice: d("5.00"),
			TaxLines: []dropsync.TaxLine{{Title: "VAT", Rate: d("0.19"), Price: d("0.95")}}}},
		SubtotalPrice: d("45.00"), TotalDiscounts: d("5.00"), TotalShipping: d("5.00"),
		TotalTax: d("8.42"), TotalPrice: d("58.42"), CurrentTotalPrice: d("58.42"),
	}
}

func buildInvoice(t testing.TB, id int64) invoice.Invoice {
	t.Helper()
	inv, err := invoice.Build(invSale(id), invSeller)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func seqOf(t *testing.T, rdb *redis.Client, series string, year int) string {
	t.Helper()
	v, err := rdb.HGet(context.Background(), redisstore.Prefix+"{invoices}:seq", fmt.Sprintf("%s:%d", series, year)).Result()
	if err == redis.Nil {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestIssueInvoice(t *testing.T) {
	s, _, clk := invStore(t)
	ctx := context.Background()

	first, created, err := s.IssueInvoice(ctx, buildInvoice(t, 1))
	if err != nil || !created {
		t.Fatalf("issue: created %v, err %v", created, err)
	}
	if got, want := first.Number, "INV-2026-000001"; got != want {
		t.Errorf("number %q, want %q", got, want)
	}
	if got, want := first.IssuedAt, clk.now(); !got.Equal(want) {
		t.Errorf("issued_at %s, want the store's clock %s", got, want)
	}
	if got, want := first.Total.String(), "58.42"; got != want {
		t.Errorf("total %s, want %s", got, want)
	}

	second, _, err := s.IssueInvoice(ctx, buildInvoice(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := second.Number, "INV-2026-000002"; got != want {
		t.Errorf("second number %q, want %q", got, want)
	}

	// Issuing again for order 1, even from another series or a day later, returns the first.
	clk.set(clk.now().Add(24 * time.Hour))
	again := buildInvoice(t, 1)
	again.Series = "EX"
	dup, created, err := s.IssueInvoice(ctx, again)
	if err != nil || created {
		t.Fatalf("re-issue: created %v, err %v", created, err)
	}
	a, _ := first.JSON()
	b, _ := dup.JSON()
	if !bytes.Equal(a, b) {
		t.Errorf("re-issue returned another invoice:\n got %s\nwant %s", b, a)
	}

	// The stored document is exactly what was returned.
	for _, read := range []func() (invoice.Invoice, error){
		func() (invoice.Invoice, error) { return s.Invoice(ctx, "INV-2026-000001") },
		func() (invoice.Invoice, error) { return s.InvoiceForOrder(ctx, invShop, 1) },
	} {
		got, err := read()
		if err != nil {
			t.Fatal(err)
		}
		if g, _ := got.JSON(); !bytes.Equal(g, a) {
			t.Errorf("stored invoice differs:\n got %s\nwant %s", g, a)
		}
	}

	// Each series counts on its own; a new year starts again at 1.
	other := buildInvoice(t, 3)
	other.Series = "EX"
	ex, _, err := s.IssueInvoice(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ex.Number, "EX-2026-000001"; got != want {
		t.Errorf("other series number %q, want %q", got, want)
	}
	clk.set(time.Date(2027, 1, 1, 0, 0, 5, 0, time.UTC))
	ny, _, err := s.IssueInvoice(ctx, buildInvoice(t, 4))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ny.Number, "INV-2027-000001"; got != want {
		t.Errorf("new year number %q, want %q", got, want)
	}
}

func TestIssueInvoiceRefused(t *testing.T) {
	s, rdb, _ := invStore(t)
	ctx := context.Background()
	bad := buildInvoice(t, 1)
	bad.Series = "inv-2026" // would break the number format
	if _, _, err := s.IssueInvoice(ctx, bad); dropsync.ErrorCode(err) != dropsync.EINVALID {
		t.Errorf("bad series: err %v, want EINVALID", err)
	}
	cn := buildInvoice(t, 1)
	cn.Kind = invoice.KindCreditNote
	if _, _, err := s.IssueInvoice(ctx, cn); dropsync.ErrorCode(err) != dropsync.EINVALID {
		t.Errorf("credit note through IssueInvoice: err %v, want EINVALID", err)
	}
	if got := seqOf(t, rdb, "INV", 2026); got != "" {
		t.Errorf("sequence %q after refusals, want none taken", got)
	}
}

func TestInvoiceNotFound(t *testing.T) {
	s, _, _ := invStore(t)
	ctx := context.Background()
	if _, err := s.Invoice(ctx, "INV-2026-000404"); dropsync.ErrorCode(err) != dropsync.ENOTFOUND {
		t.Errorf("Invoice: err %v, want ENOTFOUND", err)
	}
	if _, err := s.InvoiceForOrder(ctx, invShop, 404); dropsync.ErrorCode(err) != dropsync.ENOTFOUND {
		t.Errorf("InvoiceForOrder: err %v, want ENOTFOUND", err)
	}
}

// checkGapless asserts that orders 1..n hold numbers 1..n of INV-2026, each once.
func checkGapless(t *testing.T, s *redisstore.Store, rdb *redis.Client, n int) {
	t.Helper()
	ctx := context.Background()
	seen := map[string]int64{}
	for id := int64(1); id <= int64(n); id++ {
		inv, err := s.InvoiceForOrder(ctx, invShop, id)
		if err != nil {
			t.Fatalf("order %d: %v", id, err)
		}
		if prev, dup := seen[inv.Number]; dup {
			t.Fatalf("number %s given to orders %d and %d", inv.Number, prev, id)
		}
		seen[inv.Number] = id
	}
	for seq := 1; seq <= n; seq++ {
		if _, ok := seen[invoice.Number("INV", 2026, int64(seq))]; !ok {
			t.Errorf("number %d is missing: the sequence has a gap", seq)
		}
	}
	if got, want := seqOf(t, rdb, "INV", 2026), strconv.Itoa(n); got != want {
		t.Errorf("sequence at %s, want %s", got, want)
	}
	if got, err := rdb.HLen(ctx, redisstore.Prefix+"{invoices}:docs").Result(); err != nil || got != int64(n) {
		t.Errorf("%d documents stored (err %v), want %d", got, err, n)
	}
}

func TestIssueInvoiceConcurrent(t *testing.T) {
	s, rdb, _ := invStore(t)
	const workers, orders = 50, 200
	jobs := make(chan int64)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				if _, _, err := s.IssueInvoice(context.Background(), buildInvoice(t, id)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for id := int64(1); id <= orders; id++ {
		jobs <- id
	}
	close(jobs)
	wg.Wait()
	checkGapless(t, s, rdb, orders)

	// Now one order issued by many workers at once: one invoice, one number.
	var (
		mu      sync.Mutex
		created int
		numbers = map[string]bool{}
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inv, c, err := s.IssueInvoice(context.Background(), buildInvoice(t, orders+1))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			numbers[inv.Number] = true
			if c {
				created++
			}
		}()
	}
	wg.Wait()
	if created != 1 || len(numbers) != 1 {
		t.Errorf("one order issued %d times at once: %d created, numbers %v; want 1 and 1", workers, created, numbers)
	}
	checkGapless(t, s, rdb, orders+1)
}

// killProxy sits between workers and Redis and kills connections the way a worker dies:
// before its script reaches Redis, or after Redis ran it but before the worker read the
// reply. It only listens on the loopback interface and stops with the test.
type killProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	rng    *rand.Rand
	before atomic.Int64 // scripts that never reached Redis
	after  atomic.Int64 // scripts that ran with their reply lost
}

func startKillProxy(t *testing.T, target string) *killProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &killProxy{ln: ln, target: target, rng: rand.New(rand.NewPCG(5, 6))}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *killProxy) roll() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.Float64()
}

func (p *killProxy) serve(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	kill := func() { client.Close(); server.Close() }
	defer kill()
	var scriptSent atomic.Bool
	go func() {
		defer kill()
		buf := make([]byte, 64<<10)
		for {
			n, err := client.Read(buf)
			if err != nil {
				return
			}
			if cmd := bytes.ToLower(buf[:min(n, 32)]); bytes.Contains(cmd, []byte("\r\nevalsha\r\n")) ||
				bytes.Contains(cmd, []byte("\r\neval\r\n")) {
				if p.roll() < 0.15 {
					p.before.Add(1)
					return
				}
				scriptSent.Store(true)
			}
			if _, err := server.Write(buf[:n]); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := server.Read(buf)
		if err != nil {
			return
		}
		if scriptSent.Swap(false) && !bytes.HasPrefix(buf[:n], []byte("-NOSCRIPT")) && p.roll() < 0.3 {
			p.after.Add(1)
			return
		}
		if _, err := client.Write(buf[:n]); err != nil {
			return
		}
	}
}

// TestIssueInvoiceWorkersKilled issues 200 invoices from workers that die at random points
// (before their script reached Redis, or after it ran but before they saw the reply), then
// retries every order as asynq would: the sequence has no gap and no duplicate, and every
// invoice stored by a worker that died is found, not issued again, by the retry.
func TestIssueInvoiceWorkersKilled(t *testing.T) {
	s, rdb, clk := invStore(t)
	proxy := startKillProxy(t, rdb.Options().Addr)
	opt := *rdb.Options()
	opt.Addr = proxy.ln.Addr().String()
	opt.MaxRetries = -1 // the worker dies; asynq's retry below is the only one
	dying := redis.NewClient(&opt)
	defer dying.Close()
	// One clock for all: no worker's date is moved forward, so every script that ran stored.
	ds := redisstore.New(dying, clk.now)

	const workers, orders = 10, 200
	jobs := make(chan int64)
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				if _, _, err := ds.IssueInvoice(context.Background(), buildInvoice(t, id)); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	for id := int64(1); id <= orders; id++ {
		jobs <- id
	}
	close(jobs)
	wg.Wait()
	before, after := proxy.before.Load(), proxy.after.Load()
	t.Logf("%d workers died before their script ran, %d after", before, after)
	if before == 0 || after == 0 || failed.Load() != before+after {
		t.Fatalf("killed %d before and %d after, %d calls failed: the test did not kill as meant", before, after, failed.Load())
	}

	found := int64(0)
	for id := int64(1); id <= orders; id++ {
		_, created, err := s.IssueInvoice(context.Background(), buildInvoice(t, id))
		if err != nil {
			t.Fatal(err)
		}
		if !created {
			found++
		}
	}
	if got, want := found, orders-before; got != want {
		t.Errorf("retries found %d invoices already issued, want %d (all but the %d never run)", got, want, before)
	}
	checkGapless(t, s, rdb, orders)
}

// TestIssueInvoiceScriptErrorTakesNoNumber breaks one of the keys the script writes last: the
// script must refuse before its first write, leaving the sequence as it was.
func TestIssueInvoiceScriptErrorTakesNoNumber(t *testing.T) {
	s, rdb, _ := invStore(t)
	ctx := context.Background()
	if _, _, err := s.IssueInvoice(ctx, buildInvoice(t, 1)); err != nil {
		t.Fatal(err)
	}
	issued := redisstore.Prefix + "{invoices}:issued"
	saved, err := rdb.Dump(ctx, issued).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, issued, "not a sorted set", 0).Err(); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.IssueInvoice(ctx, buildInvoice(t, 2))
	if err == nil {
		t.Fatal("issued with a broken index, want an error")
	}
	if got, want := seqOf(t, rdb, "INV", 2026), "1"; got != want {
		t.Errorf("sequence %s after the failed script, want %s", got, want)
	}
	if _, err := s.InvoiceForOrder(ctx, invShop, 2); dropsync.ErrorCode(err) != dropsync.ENOTFOUND {
		t.Errorf("order 2 after the failed script: err %v, want ENOTFOUND", err)
	}
	// Repaired, the next invoice takes the next number: nothing was lost.
	if err := rdb.RestoreReplace(ctx, issued, 0, saved).Err(); err != nil {
		t.Fatal(err)
	}
	inv, _, err := s.IssueInvoice(ctx, buildInvoice(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := inv.Number, "INV-2026-000002"; got != want {
		t.Errorf("number after repair %q, want %q", got, want)
	}
}

// TestIssueInvoiceWriteDeniedTakesNoNumber runs the script as a Redis user that may write
// the sequence but not the documents: a number taken with no invoice stored is exactly the
// gap to avoid. Because the script names all its keys, Redis refuses it whole.
func TestIssueInvoiceWriteDeniedTakesNoNumber(t *testing.T) {
	s, rdb, _ := invStore(t)
	ctx := context.Background()
	if _, _, err := s.IssueInvoice(ctx, buildInvoice(t, 1)); err != nil {
		t.Fatal(err)
	}
	user := fmt.Sprintf("dropsync-invoice-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	k := redisstore.Prefix + "{invoices}:"
	rules := []any{"ACL", "SETUSER", user, "on", ">secret", "+@all", "%R~*"}
	for _, name := range []string{"by-order", "by-refund", "seq", "issued", "credit-notes", "credited", "redacted"} {
		rules = append(rules, "~"+k+name) // every key but the documents
	}
	if err := rdb.Do(ctx, rules...).Err(); err != nil {
		t.Fatalf("create test user: %v", err)
	}
	t.Cleanup(func() { rdb.Do(context.Background(), "ACL", "DELUSER", user) })
	opt := *rdb.Options()
	opt.Username, opt.Password = user, "secret"
	limited := redis.NewClient(&opt)
	defer limited.Close()
	ls := redisstore.New(limited, nil)

	_, _, err := ls.IssueInvoice(ctx, buildInvoice(t, 2))
	if err == nil {
		t.Fatal("issued without the right to store documents, want an error")
	}
	if got, want := seqOf(t, rdb, "INV", 2026), "1"; got != want {
		t.Errorf("sequence %s after the refused script, want %s: a number was lost", got, want)
	}
	if _, err := s.InvoiceForOrder(ctx, invShop, 2); dropsync.ErrorCode(err) != dropsync.ENOTFOUND {
		t.Errorf("order 2 after the refused script: err %v, want ENOTFOUND", err)
	}
}

// TestIssueInvoiceDatesFollowNumbers issues with a clock that went backwards (another
// worker's clock, a caller's date): the document is dated with its predecessor instead.
func TestIssueInvoiceDatesFollowNumbers(t *testing.T) {
	s, _, clk := invStore(t)
	ctx := context.Background()
	first, _, err := s.IssueInvoice(ctx, buildInvoice(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	clk.set(first.IssuedAt.Add(-time.Hour))
	second, _, err := s.IssueInvoice(ctx, buildInvoice(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	if second.IssuedAt.Before(first.IssuedAt) {
		t.Errorf("%s dated %s, before %s dated %s", second.Number, second.IssuedAt, first.Number, first.IssuedAt)
	}
	if got, want := second.Number, "INV-2026-000002"; got != want {
		t.Errorf("number %q, want %q", got, want)
	}
}

// refundOf refunds quantity units of the order's first line.
func refundOf(id, orderID int64, quantity int, shipping string) dropsync.Refund {
	return dropsync.Refund{ID: id, Lines: []dropsync.RefundLine{{LineID: orderID*10 + 1, Quantity: quantity}},
		Shipping: decimal.RequireFromString(shipping)}
}

func issueCredit(t *testing.T, s *redisstore.Store, orderID int64, refund dropsync.Refund) (invoice.Invoice, bool, error) {
	t.Helper()
	inv, err := s.InvoiceForOrder(context.Background(), invShop, orderID)
	if err != nil {
		t.Fatal(err)
	}
	cn, err := invoice.BuildCreditNote(inv, invSale(orderID), refund)
	if err != nil {
		return invoice.Invoice{}, false, err
	}
	return s.IssueCreditNote(context.Background(), cn)
}

func TestCreditNotes(t *testing.T) {
	s, rdb, _ := invStore(t)
	ctx := context.Background()
	for id := int64(1); id <= 2; id++ {
		if _, _, err := s.IssueInvoice(ctx, buildInvoice(t, id)); err != nil {
			t.Fatal(err)
		}
	}
	// A partial refund of order 1: one of two T-shirts.
	cn1, created, err := issueCredit(t, s, 1, refundOf(501, 1, 1, "0"))
	if err != nil || !created {
		t.Fatalf("partial refund: created %v, err %v", created, err)
	}
	if got, want := cn1.Number, "CN-2026-000001"; got != want {
		t.Errorf("credit note number %q, want %q", got, want)
	}
	if got, want := cn1.Total.String(), "21.42"; got != want {
		t.Errorf("partial credit %s, want %s", got, want)
	}
	// The same refund again (a retried webhook): the same credit note.
	again, created, err := issueCredit(t, s, 1, refundOf(501, 1, 1, "0"))
	if err != nil || created || again.Number != cn1.Number {
		t.Errorf("same refund again: %q created %v err %v, want %q not created", again.Number, created, err, cn1.Number)
	}
	// A refund of order 2 takes the next number of the credit note series.
	cn2, _, err := issueCredit(t, s, 2, refundOf(502, 2, 2, "5.00"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cn2.Number, "CN-2026-000002"; got != want {
		t.Errorf("second credit note %q, want %q", got, want)
	}
	// A refund of more than remains is refused and takes no number.
	if _, _, err := issueCredit(t, s, 1, refundOf(503, 1, 2, "0")); dropsync.ErrorReason(err) != invoice.ReasonOverCredit {
		t.Errorf("over-refund: err %v, want reason %s", err, invoice.ReasonOverCredit)
	}
	// The cancellation credits everything left of order 1.
	inv, err := s.InvoiceForOrder(ctx, invShop, 1)
	if err != nil {
		t.Fatal(err)
	}
	cancel, err := invoice.BuildCreditNote(inv, invSale(1), invoice.CancellationRefund(inv, invSale(1), time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	cn3, _, err := s.IssueCreditNote(ctx, cancel)
	if err != nil {
		t.Fatal(err)
	}
	inv, err = s.InvoiceForOrder(ctx, invShop, 1)
	if err != nil {
		t.Fatal(err)
	}
	var credited decimal.Decimal
	var numbers []string
	for _, cn := range inv.CreditNotes {
		credited = credited.Add(cn.Total)
		numbers = append(numbers, cn.Number)
	}
	if want := []string{cn1.Number, cn3.Number}; fmt.Sprint(numbers) != fmt.Sprint(want) {
		t.Errorf("credit notes of the invoice %v, want %v", numbers, want)
	}
	if !credited.Equal(inv.Total) {
		t.Errorf("credited %s in all, want the invoice total %s", credited, inv.Total)
	}
	if got, want := seqOf(t, rdb, "CN", 2026), "3"; got != want {
		t.Errorf("credit note sequence %s, want %s", got, want)
	}
}

// TestCreditNoteRace builds two credit notes from the same read of an invoice, as two
// workers would: each alone fits, together they exceed the invoice. The store refuses the
// second instead of crediting more than was invoiced.
func TestCreditNoteRace(t *testing.T) {
	s, _, _ := invStore(t)
	ctx := context.Background()
	if _, _, err := s.IssueInvoice(ctx, buildInvoice(t, 1)); err != nil {
		t.Fatal(err)
	}
	inv, err := s.InvoiceForOrder(ctx, invShop, 1)
	if err != nil {
		t.Fatal(err)
	}
	partial, err := invoice.BuildCreditNote(inv, invSale(1), refundOf(601, 1, 1, "0"))
	if err != nil {
		t.Fatal(err)
	}
	everything, err := invoice.BuildCreditNote(inv, invSale(1), invoice.CancellationRefund(inv, invSale(1), time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.IssueCreditNote(ctx, partial); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.IssueCreditNote(ctx, everything)
	if got, want := dropsync.ErrorCode(err), dropsync.ECONFLICT; got != want {
		t.Fatalf("stale cancellation: code %q (%v), want %q", got, err, want)
	}
	// Rebuilt from the invoice as stored now, it credits exactly the rest.
	inv, err = s.InvoiceForOrder(ctx, invShop, 1)
	if err != nil {
		t.Fatal(err)
	}
	rebuilt, err := invoice.BuildCreditNote(inv, invSale(1), invoice.CancellationRefund(inv, invSale(1), time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	cn, _, err := s.IssueCreditNote(ctx, rebuilt)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cn.Total.Add(partial.Total), inv.Total; !got.Equal(want) {
		t.Errorf("credited %s in all, want %s", got, want)
	}
	if got, want := cn.Number, "CN-2026-000002"; got != want {
		t.Errorf("number %q, want %q (the refused one took none)", got, want)
	}
}

func TestCreditNoteNeedsInvoice(t *testing.T) {
	s, _, _ := invStore(t)
	inv := buildInvoice(t, 1)
	inv.Number, inv.Year, inv.Sequence = "INV-2026-000009", 2026, 9
	cn, err := invoice.BuildCreditNote(inv, invSale(1), refundOf(1, 1, 1, "0"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.IssueCreditNote(context.Background(), cn); dropsync.ErrorCode(err) != dropsync.ENOTFOUND {
		t.Errorf("credit note for an invoice never issued: err %v, want ENOTFOUND", err)
	}
}

func TestInvoicesBetween(t *testing.T) {
	s, _, clk := invStore(t)
	ctx := context.Background()
	day := func(d int) time.Time { return time.Date(2026, 11, d, 12, 0, 0, 0, time.UTC) }
	for id := int64(1); id <= 4; id++ {
		clk.set(day(int(id)))
		if _, _, err := s.IssueInvoice(ctx, buildInvoice(t, id)); err != nil {
			t.Fatal(err)
		}
	}
	clk.set(day(3).Add(time.Hour))
	if _, _, err := issueCredit(t, s, 1, refundOf(701, 1, 1, "0")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"all", day(1), day(30), []string{"INV-2026-000001", "INV-2026-000002", "INV-2026-000003", "CN-2026-000001", "INV-2026-000004"}},
		{"to is exclusive", day(1), day(3), []string{"INV-2026-000001", "INV-2026-000002"}},
		{"from is inclusive", day(3), day(4), []string{"INV-2026-000003", "CN-2026-000001"}},
		{"none", day(10), day(20), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			invs, err := s.Invoices(ctx, tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, inv := range invs {
				got = append(got, inv.Number)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	// The export of what was read.
	invs, err := s.Invoices(ctx, day(1), day(30))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := invoice.WriteCSV(&b, invs); err != nil {
		t.Fatal(err)
	}
	if got := bytes.Count(b.Bytes(), []byte("\n")); got != 6 {
		t.Errorf("export has %d lines, want a header and 5 rows:\n%s", got, b.Bytes())
	}
}

func TestRedactInvoiceBuyer(t *testing.T) {
	s, _, _ := invStore(t)
	ctx := context.Background()
	orig, _, err := s.IssueInvoice(ctx, buildInvoice(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := issueCredit(t, s, 1, refundOf(801, 1, 1, "0")); err != nil {
		t.Fatal(err)
	}
	// A credit note built before the erasure but stored after it.
	stale, err := invoice.BuildCreditNote(mustInvoice(t, s, 1), invSale(1), dropsync.Refund{ID: 802,
		Lines: []dropsync.RefundLine{{LineID: 12, Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // a repeat changes nothing
		if err := s.RedactInvoiceBuyer(ctx, invShop, 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.IssueCreditNote(ctx, stale); err != nil {
		t.Fatal(err)
	}
	inv := mustInvoice(t, s, 1)
	docs := append([]invoice.Invoice{inv}, inv.CreditNotes...)
	if len(docs) != 3 {
		t.Fatalf("%d documents, want the invoice and two credit notes", len(docs))
	}
	for _, d := range docs {
		b, _ := d.JSON()
		// The email goes; the name and address the law requires on a kept invoice stay.
		if bytes.Contains(b, []byte("zoe@example.com")) {
			t.Errorf("%s still holds the buyer's email after redaction", d.Number)
		}
		for _, required := range []string{"Zoë", "Müller", "Piotrkowska", "90-006", "Łódź"} {
			if !bytes.Contains(b, []byte(required)) {
				t.Errorf("%s lost %q, which an invoice must keep", d.Number, required)
			}
		}
		if got, want := d.Buyer.CountryCode, "PL"; got != want {
			t.Errorf("%s buyer country %q, want %q kept", d.Number, got, want)
		}
	}
	// Everything but the buyer is as issued.
	kept := inv
	kept.Buyer, kept.CreditNotes = orig.Buyer, nil
	a, _ := orig.JSON()
	b, _ := kept.JSON()
	if !bytes.Equal(a, b) {
		t.Errorf("redaction changed more than the buyer:\n got %s\nwant %s", b, a)
	}
	// Nothing to erase for an order without an invoice.
	if err := s.RedactInvoiceBuyer(ctx, invShop, 99); err != nil {
		t.Errorf("order without invoice: %v", err)
	}
}

func mustInvoice(t *testing.T, s *redisstore.Store, orderID int64) invoice.Invoice {
	t.Helper()
	inv, err := s.InvoiceForOrder(context.Background(), invShop, orderID)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// BenchmarkIssueInvoice issues one invoice per iteration, each for a new order, from
// parallel workers: the cost of the atomic allocate-and-store script.
func BenchmarkIssueInvoice(b *testing.B) {
	s, _, _ := invStore(b)
	inv := buildInvoice(b, 1)
	var next sync.Mutex
	id := int64(0)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			next.Lock()
			id++
			doc := inv
			doc.OrderID = id
			next.Unlock()
			if _, _, err := s.IssueInvoice(context.Background(), doc); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
