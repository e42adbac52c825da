package redisstore

// Invoices and credit notes.
//
// What "gapless" means here, for an accountant: within one series and one calendar year the
// numbers run 1, 2, 3, … with none skipped and none used twice, and every number belongs to
// a stored document. A number is allocated only in the same Lua script that stores its
// document, so there is no moment, whatever dies when, at which a number is taken but no
// invoice exists: Redis runs a script whole or not at all, and with AOF the script's writes
// are logged as one transaction that a crash keeps or drops whole. A worker that dies before
// the script ran left nothing; one that dies after it finds the same invoice when its task is
// retried, because the script first looks the order (or the refund) up and returns the
// document already issued. Dates never run backwards against numbers: a document is never
// dated before the one numbered just before it in its series.
//
// Documents are never deleted and never change, with one exception the law asks for: when a
// customer's data must be erased, RedactInvoiceBuyer blanks the buyer's email (see
// invoice.Buyer.Redact) but keeps the buyer's name and postal address, which tax law
// requires on an invoice, and the number, the amounts, the taxes and the seller, all of
// which the merchant must keep for years. A credit note, not an edit, corrects an invoice;
// the list of credit notes issued against an invoice is kept beside it, not inside it.
//
// Every key the scripts touch is named in KEYS (none is built inside Lua): Redis then checks
// them all before running anything, so a refused key (an ACL, a cluster slot) refuses the
// whole script instead of failing it half-way; the hash tag keeps them in one cluster slot;
// and the script checks every key's type before its first write, so no write can fail after
// another succeeded.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/invoice"
)

// invoiceKey names one of the invoice keys; all share the {invoices} hash tag.
func invoiceKey(name string) string { return Prefix + "{invoices}:" + name }

// invoiceKeys are the keys every invoice script receives, in this order:
//
//	docs         hash  number → document JSON (invoices and credit notes)
//	by-order     hash  "<shop>:<order id>" → invoice number
//	by-refund    hash  "<shop>:<refund id>" → credit note number
//	seq          hash  "<series>:<year>" → last sequence; "<series>:<year>:at" → its issued_at (unix s)
//	issued       zset  number scored by issued_at (unix ms)
//	credit-notes hash  invoice number → its credit note numbers, comma-separated, oldest first
//	credited     hash  invoice number → total credited, in minor units
//	redacted     hash  "<shop>:<order id>" → "1" once the buyer's data was erased
func invoiceKeys() []string {
	return []string{invoiceKey("docs"), invoiceKey("by-order"), invoiceKey("by-refund"), invoiceKey("seq"),
		invoiceKey("issued"), invoiceKey("credit-notes"), invoiceKey("credited"), invoiceKey("redacted")}
}

// checkTypesLua refuses to run on a key of the wrong type: found before any write, a bad key
// costs nothing; found by a write half-way, it would leave a number taken and no document.
const checkTypesLua = `
local want = {'hash', 'hash', 'hash', 'hash', 'zset', 'hash', 'hash', 'hash'}
for i, k in ipairs(KEYS) do
  local t = redis.call('TYPE', k).ok
  if t ~= 'none' and t ~= want[i] then
    return redis.error_reply('WRONGTYPE ' .. k .. ' holds a ' .. t)
  end
end
`

// withCreditNotesLua returns a document followed by its credit notes.
const withCreditNotesLua = `
local function withCreditNotes(code, number)
  local out = {code, redis.call('HGET', KEYS[1], number)}
  local list = redis.call('HGET', KEYS[6], number)
  if list then
    for n in string.gmatch(list, '[^,]+') do out[#out + 1] = redis.call('HGET', KEYS[1], n) end
  end
  return out
end
`

// issueScript allocates the next number of a series and year and stores the document, or
// returns the document already issued for the order (invoice) or the refund (credit note).
//
// ARGV: 1 kind, 2 index field, 3 "<series>:<year>", 4 series, 5 year, 6 issued_at (unix s),
// 7 issued_at (unix ms), 8 and 9 the document JSON around its number and sequence,
// 10 invoice number credited, 11 credit in minor units, 12 invoice total in minor units,
// 13 order field, 14 "1" if the buyer is redacted.
//
// Replies: {1, doc} issued; {0, doc, credit notes…} issued before; {2, at} issued_at is before
// the last document of the series (at); {3} the credited invoice does not exist; {4} the
// buyer's data was erased meanwhile; {5, credited} the credit exceeds what remains. A series
// ends at 999999 in a year (an error reply): numbers have six digits (invoice.Number).
var issueScript = redis.NewScript(checkTypesLua + withCreditNotesLua + `
local isCN = ARGV[1] == 'credit_note'
local index = KEYS[2]
if isCN then index = KEYS[3] end
local existing = redis.call('HGET', index, ARGV[2])
if existing then return withCreditNotes(0, existing) end
if ARGV[14] ~= '1' and redis.call('HEXISTS', KEYS[8], ARGV[13]) == 1 then return {4} end
if isCN then
  if redis.call('HEXISTS', KEYS[1], ARGV[10]) == 0 then return {3} end
  local done = tonumber(redis.call('HGET', KEYS[7], ARGV[10]) or '0')
  if done + tonumber(ARGV[11]) > tonumber(ARGV[12]) then return {5, tostring(done)} end
end
local last = tonumber(redis.call('HGET', KEYS[4], ARGV[3] .. ':at') or '0')
if tonumber(ARGV[6]) < last then return {2, tostring(last)} end
local n = tonumber(redis.call('HGET', KEYS[4], ARGV[3]) or '0') + 1
if n > 999999 then
  return redis.error_reply('ERR series ' .. ARGV[3] .. ' has used all its numbers')
end
local number = ARGV[4] .. '-' .. ARGV[5] .. '-' .. string.format('%06d', n)
if redis.call('HEXISTS', KEYS[1], number) == 1 then
  return redis.error_reply('ERR invoice number ' .. number .. ' is already used')
end
local doc = '{"number":"' .. number .. '"' .. ARGV[8] .. n .. ARGV[9]
-- Checks are done: from here on nothing can fail, so all of this happens or none.
redis.call('HSET', KEYS[4], ARGV[3], n, ARGV[3] .. ':at', ARGV[6])
redis.call('HSET', KEYS[1], number, doc)
redis.call('HSET', index, ARGV[2], number)
redis.call('ZADD', KEYS[5], ARGV[7], number)
if isCN then
  local list = redis.call('HGET', KEYS[6], ARGV[10])
  if list then list = list .. ',' .. number else list = number end
  redis.call('HSET', KEYS[6], ARGV[10], list)
  redis.call('HINCRBY', KEYS[7], ARGV[10], ARGV[11])
end
return {1, doc}
`)

// readScript returns a document with its credit notes, by number (ARGV 1 "number") or by
// order (ARGV 1 "order", ARGV 2 "<shop>:<order id>"); {} when there is none.
var readScript = redis.NewScript(withCreditNotesLua + `
local number = ARGV[2]
if ARGV[1] == 'order' then number = redis.call('HGET', KEYS[2], ARGV[2]) end
if not number or redis.call('HEXISTS', KEYS[1], number) == 0 then return {} end
return withCreditNotes(1, number)
`)

// replaceScript swaps a document for its redacted version if nobody changed it meanwhile.
var replaceScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`)

func orderField(shop string, id int64) string  { return shop + ":" + strconv.FormatInt(id, 10) }
func refundField(shop string, id int64) string { return shop + ":" + strconv.FormatInt(id, 10) }

// maxIssueAttempts bounds the retries after a date clamp or a concurrent redaction.
const maxIssueAttempts = 10

// IssueInvoice allocates the next number of inv.Series for the year of its issued_at (UTC;
// the store's clock when zero) and stores the invoice, in one atomic script: gapless and
// unique with any number of concurrent issuers, and no window in which a number is taken but
// no invoice stored. Issuing again for the same shop and order returns the first invoice
// unchanged, with its credit notes, and created false. issued_at is kept to the second and is
// moved forward to the date of the series' previous document if it would fall before it.
// An order whose buyer was erased (RedactInvoiceBuyer) before issue gets an erased buyer.
// It returns EINVALID for a document that does not validate and EUNAVAILABLE when Redis is
// unreachable.
func (s *Store) IssueInvoice(ctx context.Context, inv invoice.Invoice) (invoice.Invoice, bool, error) {
	if inv.Kind == "" {
		inv.Kind = invoice.KindInvoice
	}
	if inv.Kind != invoice.KindInvoice {
		return invoice.Invoice{}, false, dropsync.Errorf(dropsync.EINVALID, "IssueInvoice got a %s", inv.Kind)
	}
	return s.issue(ctx, inv, orderField(inv.Shop, inv.OrderID), 0, 0)
}

// IssueCreditNote issues a credit note in its own series, as IssueInvoice does, and appends
// it to its invoice's credit notes in the same script. It is idempotent per shop and refund
// id: the credit note already issued for the refund is returned with created false. The
// invoice must exist (ENOTFOUND). A credit note built from an invoice that has been credited
// since, so that the credits would exceed its total, is refused with ECONFLICT (reason
// invoice.ReasonOverCredit): rebuild it from the invoice as stored now. When the buyer's
// data has been erased, the credit note is stored with the buyer erased too.
func (s *Store) IssueCreditNote(ctx context.Context, cn invoice.Invoice) (invoice.Invoice, bool, error) {
	if cn.Kind != invoice.KindCreditNote {
		return invoice.Invoice{}, false, dropsync.Errorf(dropsync.EINVALID, "IssueCreditNote got a %q", cn.Kind)
	}
	if err := cn.Validate(); err != nil {
		return invoice.Invoice{}, false, err
	}
	inv, err := s.Invoice(ctx, cn.Refers)
	if err != nil {
		return invoice.Invoice{}, false, err
	}
	switch {
	case inv.Kind != invoice.KindInvoice:
		return invoice.Invoice{}, false, dropsync.Errorf(dropsync.EINVALID, "%s is a %s, not an invoice", inv.Number, inv.Kind)
	case inv.Shop != cn.Shop || inv.OrderID != cn.OrderID:
		return invoice.Invoice{}, false, dropsync.Errorf(dropsync.EINVALID,
			"credit note for order %d of %s refers to invoice %s of another order", cn.OrderID, cn.Shop, inv.Number)
	case inv.Currency != cn.Currency:
		return invoice.Invoice{}, false, dropsync.Errorf(dropsync.EINVALID,
			"credit note in %s for invoice %s in %s", cn.Currency, inv.Number, inv.Currency)
	}
	if inv.Buyer.IsRedacted() {
		cn.Buyer = cn.Buyer.Redact()
	}
	credit, err := cn.MinorUnits(cn.Total)
	if err != nil {
		return invoice.Invoice{}, false, err
	}
	total, err := inv.MinorUnits(inv.Total)
	if err != nil {
		return invoice.Invoice{}, false, err
	}
	return s.issue(ctx, cn, refundField(cn.Shop, cn.RefundID), credit, total)
}

// issue runs issueScript for doc until it is stored or found; credit and total are the
// credit note's and its invoice's totals in minor units.
func (s *Store) issue(ctx context.Context, doc invoice.Invoice, index string, credit, total int64) (invoice.Invoice, bool, error) {
	at := doc.IssuedAt
	if at.IsZero() {
		at = s.now()
	}
	at = at.UTC().Truncate(time.Second)
	for range maxIssueAttempts {
		doc.IssuedAt, doc.Year = at, at.Year()
		doc.Number, doc.Sequence, doc.CreditNotes = "", 0, nil
		if err := doc.Validate(); err != nil {
			return invoice.Invoice{}, false, err
		}
		b, err := doc.JSON()
		if err != nil {
			return invoice.Invoice{}, false, err
		}
		mid, tail, err := splitDocument(b)
		if err != nil {
			return invoice.Invoice{}, false, err
		}
		series := doc.Series + ":" + strconv.Itoa(doc.Year)
		redacted := "0"
		if doc.Buyer.IsRedacted() {
			redacted = "1"
		}
		res, err := issueScript.Run(ctx, s.rdb, invoiceKeys(), string(doc.Kind), index, series, doc.Series,
			strconv.Itoa(doc.Year), at.Unix(), at.UnixMilli(), mid, tail,
			doc.Refers, credit, total, orderField(doc.Shop, doc.OrderID), redacted).Slice()
		if err != nil {
			return invoice.Invoice{}, false, s.invoiceErr(ctx, err, "issue %s for order %d of %s", doc.Kind, doc.OrderID, doc.Shop)
		}
		code, _ := res[0].(int64)
		switch code {
		case 0, 1:
			out, err := decodeDocuments(res[1:])
			return out, code == 1, err
		case 2:
			last, err := strconv.ParseInt(fmt.Sprint(res[1]), 10, 64)
			if err != nil {
				return invoice.Invoice{}, false, fmt.Errorf("issue %s: bad date reply %v", doc.Kind, res[1])
			}
			at = time.Unix(last, 0).UTC()
		case 3:
			return invoice.Invoice{}, false, dropsync.Errorf(dropsync.ENOTFOUND, "invoice %s not found", doc.Refers)
		case 4:
			doc.Buyer = doc.Buyer.Redact()
		case 5:
			return invoice.Invoice{}, false, &dropsync.Error{Code: dropsync.ECONFLICT, Reason: invoice.ReasonOverCredit,
				Message: fmt.Sprintf("credit note for refund %d would credit more than remains on invoice %s; rebuild it",
					doc.RefundID, doc.Refers)}
		default:
			return invoice.Invoice{}, false, fmt.Errorf("issue %s: unexpected reply %v", doc.Kind, res)
		}
	}
	return invoice.Invoice{}, false, dropsync.Errorf(dropsync.EUNAVAILABLE,
		"issue %s for order %d of %s: too much contention", doc.Kind, doc.OrderID, doc.Shop)
}

// splitDocument cuts an unnumbered document's JSON around the number's and the sequence's
// values, which the script fills in. MarshalJSON writes number, series, year and sequence
// first, and the series holds only letters and digits, so the first ',"sequence":0,' is the
// document's own.
func splitDocument(b []byte) (mid, tail string, err error) {
	const head, seq = `{"number":""`, `,"sequence":0`
	if !bytes.HasPrefix(b, []byte(head)) {
		return "", "", fmt.Errorf("invoice JSON does not start with its number: %.40s", b)
	}
	rest := b[len(head):]
	i := bytes.Index(rest, []byte(seq+","))
	if i < 0 {
		return "", "", fmt.Errorf("invoice JSON has no sequence: %.80s", b)
	}
	return string(rest[:i+len(seq)-1]), string(rest[i+len(seq):]), nil
}

// decodeDocuments decodes a document and attaches the credit notes that follow it.
func decodeDocuments(vals []any) (invoice.Invoice, error) {
	var docs []invoice.Invoice
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			return invoice.Invoice{}, fmt.Errorf("decode invoice: missing document")
		}
		var d invoice.Invoice
		if err := json.Unmarshal([]byte(str), &d); err != nil {
			return invoice.Invoice{}, fmt.Errorf("decode invoice: %w", err)
		}
		docs = append(docs, d)
	}
	if len(docs) == 0 {
		return invoice.Invoice{}, fmt.Errorf("decode invoice: no document")
	}
	inv := docs[0]
	if len(docs) > 1 {
		inv.CreditNotes = docs[1:]
	}
	return inv, nil
}

// Invoice returns the invoice or credit note with the number, an invoice with its credit
// notes; ENOTFOUND when there is none.
func (s *Store) Invoice(ctx context.Context, number string) (invoice.Invoice, error) {
	return s.readInvoice(ctx, "number", number)
}

// InvoiceForOrder returns the invoice of a shop's order, with its credit notes; ENOTFOUND
// when none was issued.
func (s *Store) InvoiceForOrder(ctx context.Context, shop string, orderID int64) (invoice.Invoice, error) {
	return s.readInvoice(ctx, "order", orderField(shop, orderID))
}

func (s *Store) readInvoice(ctx context.Context, by, key string) (invoice.Invoice, error) {
	res, err := readScript.Run(ctx, s.rdb, invoiceKeys(), by, key).Slice()
	if err != nil {
		return invoice.Invoice{}, s.invoiceErr(ctx, err, "read invoice")
	}
	if len(res) == 0 {
		if by == "order" {
			return invoice.Invoice{}, dropsync.Errorf(dropsync.ENOTFOUND, "no invoice for order %s", key)
		}
		return invoice.Invoice{}, dropsync.Errorf(dropsync.ENOTFOUND, "invoice %s not found", key)
	}
	return decodeDocuments(res[1:])
}

// invoicePage bounds one HMGET of Invoices.
const invoicePage = 500

// Invoices lists the invoices and credit notes issued in [from, to), by issued_at then
// number, each as stored (credit notes are their own entries, not attached to invoices):
// the rows of the accountant's export.
func (s *Store) Invoices(ctx context.Context, from, to time.Time) ([]invoice.Invoice, error) {
	numbers, err := s.rdb.ZRangeByScore(ctx, invoiceKey("issued"), &redis.ZRangeBy{
		Min: strconv.FormatInt(from.UnixMilli(), 10),
		Max: "(" + strconv.FormatInt(to.UnixMilli(), 10),
	}).Result()
	if err != nil {
		return nil, s.invoiceErr(ctx, err, "list invoices")
	}
	out := make([]invoice.Invoice, 0, len(numbers))
	for start := 0; start < len(numbers); start += invoicePage {
		page := numbers[start:min(start+invoicePage, len(numbers))]
		vals, err := s.rdb.HMGet(ctx, invoiceKey("docs"), page...).Result()
		if err != nil {
			return nil, s.invoiceErr(ctx, err, "read invoices")
		}
		for i, v := range vals {
			str, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("invoice %s is listed but not stored", page[i])
			}
			var inv invoice.Invoice
			if err := json.Unmarshal([]byte(str), &inv); err != nil {
				return nil, fmt.Errorf("decode invoice %s: %w", page[i], err)
			}
			out = append(out, inv)
		}
	}
	return out, nil
}

// RedactInvoiceBuyer erases the buyer's contact data (email) on the invoice of a shop's
// order and on its credit notes, keeping what tax law requires on the document the merchant
// must keep: number, date, amounts, taxes, seller, and the buyer's name and address (see
// invoice.Buyer.Redact). Credit notes issued later are erased too. An order without an invoice has nothing to
// erase here. It is safe to repeat.
func (s *Store) RedactInvoiceBuyer(ctx context.Context, shop string, orderID int64) error {
	field := orderField(shop, orderID)
	// The mark comes first: a credit note issued from now on is stored redacted, and one
	// issued before is in the list read below.
	if err := s.rdb.HSet(ctx, invoiceKey("redacted"), field, "1").Err(); err != nil {
		return s.invoiceErr(ctx, err, "mark order %d of %s redacted", orderID, shop)
	}
	inv, err := s.InvoiceForOrder(ctx, shop, orderID)
	if dropsync.ErrorCode(err) == dropsync.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	numbers := []string{inv.Number}
	for _, cn := range inv.CreditNotes {
		numbers = append(numbers, cn.Number)
	}
	for _, n := range numbers {
		if err := s.redactDocument(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// redactDocument rewrites one stored document with its buyer erased, unless it already is.
func (s *Store) redactDocument(ctx context.Context, number string) error {
	for range maxIssueAttempts {
		old, err := s.rdb.HGet(ctx, invoiceKey("docs"), number).Result()
		if err != nil {
			return s.invoiceErr(ctx, err, "read invoice %s", number)
		}
		var doc invoice.Invoice
		if err := json.Unmarshal([]byte(old), &doc); err != nil {
			return fmt.Errorf("decode invoice %s: %w", number, err)
		}
		if doc.Buyer.IsRedacted() {
			return nil
		}
		doc.Buyer = doc.Buyer.Redact()
		b, err := doc.JSON()
		if err != nil {
			return err
		}
		swapped, err := replaceScript.Run(ctx, s.rdb, []string{invoiceKey("docs")}, number, old, string(b)).Int()
		if err != nil {
			return s.invoiceErr(ctx, err, "redact invoice %s", number)
		}
		if swapped == 1 {
			return nil
		}
	}
	return dropsync.Errorf(dropsync.EUNAVAILABLE, "redact invoice %s: too much contention", number)
}

// invoiceErr classifies a failed invoice command: cancelled, Redis unreachable (retry later)
// or refused by Redis (a script error, a wrong key type: a bug or a damaged store).
func (s *Store) invoiceErr(ctx context.Context, err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", msg, ctx.Err())
	case errors.Is(err, redis.Nil):
		return dropsync.Wrap(dropsync.ENOTFOUND, err, "%s", msg)
	case isRedisDown(err):
		return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "%s", msg)
	case strings.HasPrefix(err.Error(), "NOPERM"):
		return dropsync.Wrap(dropsync.EUNAUTHORIZED, err, "%s", msg)
	}
	return dropsync.Wrap(dropsync.EINTERNAL, err, "%s", msg)
}
