package shopifytest

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AddOrder stores an order as placed on the shop, with one open fulfillment
// order holding its lines that require shipping. Times are stored in UTC to
// the second; a zero created_at becomes now and a zero updated_at becomes
// created_at. Adding an id twice panics: a test that does so has a bug.
func (s *Server) AddOrder(o Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.orders[o.ID]; dup {
		panic(fmt.Sprintf("shopifytest: AddOrder: order %d already exists", o.ID))
	}
	o = o.clone()
	if o.CreatedAt.IsZero() {
		o.CreatedAt = s.clock()
	}
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = o.CreatedAt
	}
	if o.ProcessedAt.IsZero() {
		o.ProcessedAt = o.CreatedAt
	}
	o.CreatedAt, o.UpdatedAt, o.ProcessedAt = stamp(o.CreatedAt), stamp(o.UpdatedAt), stamp(o.ProcessedAt)
	rec := &orderRecord{order: o}
	if fo := s.newFulfillmentOrder(o); fo != nil {
		rec.fos = append(rec.fos, fo)
		s.fulfillOrder[fo.ID] = o.ID
	}
	s.orders[o.ID] = rec
}

// UpdateOrder edits a stored order as a merchant or customer would, and
// advances its updated_at (to now, or one second past the previous value if
// the clock has not moved) unless f set updated_at itself. The id cannot be
// changed; fulfillment orders are not rebuilt. It reports whether the order
// exists.
func (s *Server) UpdateOrder(id int64, f func(*Order)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.orders[id]
	if !ok {
		return false
	}
	o := rec.order.clone()
	before := o.UpdatedAt
	f(&o)
	o.ID = id
	if o.UpdatedAt.Equal(before) {
		s.touch(&o)
	} else {
		o.UpdatedAt = stamp(o.UpdatedAt)
	}
	rec.order = o.clone()
	rec.wire = nil
	return true
}

// CancelOrder cancels an order as the merchant would in the Shopify admin:
// cancelled_at and cancel_reason ("customer", "fraud", "inventory",
// "declined", "other") are set, updated_at advances, and its fulfillment
// orders close, so no further fulfillment can be created. It reports whether
// the order exists.
func (s *Server) CancelOrder(id int64, reason string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.orders[id]
	if !ok {
		return false
	}
	now := stamp(s.clock())
	rec.order.CancelledAt = &now
	rec.order.CancelReason = &reason
	for i := range rec.order.LineItems {
		rec.order.LineItems[i].FulfillableQuantity = 0
	}
	for _, fo := range rec.fos {
		if fo.Status == foOpen || fo.Status == foInProgress {
			fo.Status = foClosed
			fo.SupportedActions = []string{}
			fo.UpdatedAt = now
			for j := range fo.LineItems {
				fo.LineItems[j].FulfillableQuantity = 0
			}
		}
	}
	s.touch(&rec.order)
	rec.wire = nil
	return true
}

// Order returns a copy of a stored order, with its fulfillments.
func (s *Server) Order(id int64) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.orders[id]
	if !ok {
		return Order{}, false
	}
	return rec.order.clone(), true
}

// OrderJSON is the order exactly as Shopify sends it in an orders/* webhook
// body (the bare resource, no {"order": ...} wrapper), or nil if the order is
// unknown.
func (s *Server) OrderJSON(id int64) []byte {
	o, ok := s.Order(id)
	if !ok {
		return nil
	}
	b, err := json.Marshal(o)
	if err != nil {
		// Order's fields are all marshalable; this is a bug in the fake.
		panic(fmt.Sprintf("shopifytest: OrderJSON %d: %v", id, err))
	}
	return b
}

// touch advances updated_at as Shopify does on every change: to now, and
// strictly later than before, so pollers see the change even when a test's
// clock stands still.
func (s *Server) touch(o *Order) {
	t := stamp(s.clock())
	if !t.After(o.UpdatedAt) {
		t = o.UpdatedAt.Add(time.Second)
	}
	o.UpdatedAt = t
}

func (s *Server) getOrder(id int64, fields string) reply {
	rec, ok := s.orders[id]
	if !ok {
		return notFound()
	}
	raw, err := orderWire(rec, fieldList(fields))
	if err != nil {
		return errorReply(http.StatusInternalServerError, err.Error())
	}
	return jsonReply(http.StatusOK, map[string]json.RawMessage{"order": raw})
}

// orderWire is an order's JSON, keeping only the requested top-level fields
// when some are named (the "fields" query parameter).
func orderWire(rec *orderRecord, fields []string) (json.RawMessage, error) {
	b, err := rec.json()
	if err != nil || len(fields) == 0 {
		return b, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, fmt.Errorf("filter fields of order %d: %w", rec.order.ID, err)
	}
	kept := make(map[string]json.RawMessage, len(fields))
	for _, f := range fields {
		if v, ok := all[f]; ok {
			kept[f] = v
		}
	}
	return json.Marshal(kept)
}

func fieldList(fields string) []string {
	var out []string
	for f := range strings.SplitSeq(fields, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Pagination limits of Shopify's REST list endpoints.
const (
	defaultLimit = 50
	maxLimit     = 250
)

// orderFilter is the filtering part of GET orders.json. It travels inside
// the page_info cursor, because Shopify refuses filters next to page_info.
type orderFilter struct {
	status       string
	updatedMin   time.Time
	updatedMax   time.Time
	createdMin   time.Time
	createdMax   time.Time
	sinceID      int64
	ids          map[int64]bool
	financial    string
	fulfillment  string
	rawQueryForm string // the filter parameters, re-encoded for the cursor
}

// filterParams are the GET orders.json parameters that filter; anything
// else except limit, fields and page_info is ignored, as Shopify does with
// parameters it does not know.
func filterParams() []string {
	return []string{
		"status", "updated_at_min", "updated_at_max", "created_at_min", "created_at_max",
		"since_id", "ids", "financial_status", "fulfillment_status",
	}
}

// paramError is a 400 about one query parameter.
type paramError struct{ param, msg string }

func (e *paramError) reply() reply {
	return errorReply(http.StatusBadRequest, map[string]string{e.param: e.msg})
}

func parseOrderFilter(q url.Values) (orderFilter, *paramError) {
	f := orderFilter{status: "open"}
	kept := url.Values{}
	for _, p := range filterParams() {
		if q.Has(p) {
			kept.Set(p, q.Get(p))
		}
	}
	f.rawQueryForm = kept.Encode()
	if v := q.Get("status"); v != "" {
		switch v {
		case "open", "closed", "cancelled", "any":
			f.status = v
		default:
			return f, &paramError{"status", "is not a valid status: " + v}
		}
	}
	times := []struct {
		param string
		dst   *time.Time
	}{
		{"updated_at_min", &f.updatedMin}, {"updated_at_max", &f.updatedMax},
		{"created_at_min", &f.createdMin}, {"created_at_max", &f.createdMax},
	}
	for _, t := range times {
		v := q.Get(t.param)
		if v == "" {
			continue
		}
		parsed, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return f, &paramError{t.param, "must be an ISO 8601 date and time"}
		}
		*t.dst = parsed
	}
	if v := q.Get("since_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return f, &paramError{"since_id", "must be an integer"}
		}
		f.sinceID = id
	}
	if v := q.Get("ids"); v != "" {
		f.ids = make(map[int64]bool)
		for s := range strings.SplitSeq(v, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return f, &paramError{"ids", "must be a comma-separated list of integers"}
			}
			f.ids[id] = true
		}
	}
	f.financial = q.Get("financial_status")
	f.fulfillment = q.Get("fulfillment_status")
	return f, nil
}

// match applies the filter; time bounds are inclusive, as Shopify's are.
func (f orderFilter) match(o *Order) bool {
	switch f.status {
	case "open":
		if o.CancelledAt != nil || o.ClosedAt != nil {
			return false
		}
	case "closed":
		if o.ClosedAt == nil {
			return false
		}
	case "cancelled":
		if o.CancelledAt == nil {
			return false
		}
	}
	if !f.updatedMin.IsZero() && o.UpdatedAt.Before(f.updatedMin) ||
		!f.updatedMax.IsZero() && o.UpdatedAt.After(f.updatedMax) ||
		!f.createdMin.IsZero() && o.CreatedAt.Before(f.createdMin) ||
		!f.createdMax.IsZero() && o.CreatedAt.After(f.createdMax) {
		return false
	}
	if o.ID <= f.sinceID || f.ids != nil && !f.ids[o.ID] {
		return false
	}
	if f.financial != "" && f.financial != "any" {
		if f.financial == "unpaid" {
			if o.FinancialStatus != "pending" && o.FinancialStatus != "authorized" && o.FinancialStatus != "partially_paid" {
				return false
			}
		} else if o.FinancialStatus != f.financial {
			return false
		}
	}
	fs := ""
	if o.FulfillmentStatus != nil {
		fs = *o.FulfillmentStatus
	}
	switch f.fulfillment {
	case "shipped":
		return fs == "fulfilled"
	case "partial":
		return fs == "partial"
	case "unshipped":
		return fs == ""
	case "unfulfilled":
		return fs == "" || fs == "partial"
	}
	return true
}

// cursor is what page_info carries: the filters of the first request and
// the position to continue from, in (updated_at, id) order.
type cursor struct {
	Query     string    `json:"q"`
	Direction string    `json:"d"` // "next" or "prev"
	UpdatedAt time.Time `json:"u"`
	ID        int64     `json:"i"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, false
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || (c.Direction != "next" && c.Direction != "prev") {
		return cursor{}, false
	}
	return c, true
}

// orderKey orders orders by updated_at, then id: the order a poller walking
// an updated_at window needs, and a total order a cursor can resume from.
func orderKey(a *Order, u time.Time, id int64) int {
	return cmp.Or(a.UpdatedAt.Compare(u), cmp.Compare(a.ID, id))
}

func (s *Server) listOrders(r *http.Request, version string) reply {
	q := r.URL.Query()
	limit := defaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return (&paramError{"limit", fmt.Sprintf("must be an integer between 1 and %d", maxLimit)}).reply()
		}
		limit = n
	}
	fields := fieldList(q.Get("fields"))

	var (
		filter orderFilter
		pos    *cursor
	)
	if pi := q.Get("page_info"); pi != "" {
		for p := range q {
			if p != "page_info" && p != "limit" && p != "fields" {
				return (&paramError{"page_info", "cannot be combined with " + p + "; only limit and fields may accompany page_info"}).reply()
			}
		}
		c, ok := decodeCursor(pi)
		if !ok {
			return (&paramError{"page_info", "Invalid value."}).reply()
		}
		fq, err := url.ParseQuery(c.Query)
		if err != nil {
			return (&paramError{"page_info", "Invalid value."}).reply()
		}
		var perr *paramError
		if filter, perr = parseOrderFilter(fq); perr != nil {
			return (&paramError{"page_info", "Invalid value."}).reply()
		}
		pos = &c
	} else {
		var perr *paramError
		if filter, perr = parseOrderFilter(q); perr != nil {
			return perr.reply()
		}
	}

	all := make([]*orderRecord, 0, len(s.orders))
	for _, rec := range s.orders {
		if filter.match(&rec.order) {
			all = append(all, rec)
		}
	}
	slices.SortFunc(all, func(a, b *orderRecord) int { return orderKey(&a.order, b.order.UpdatedAt, b.order.ID) })

	var page []*orderRecord
	switch {
	case pos == nil:
		page = all[:min(limit, len(all))]
	case pos.Direction == "next":
		i, _ := slices.BinarySearchFunc(all, *pos, func(rec *orderRecord, c cursor) int {
			if orderKey(&rec.order, c.UpdatedAt, c.ID) <= 0 {
				return -1
			}
			return 1
		})
		page = all[i:min(i+limit, len(all))]
	default: // prev: the limit orders just before the cursor
		j, _ := slices.BinarySearchFunc(all, *pos, func(rec *orderRecord, c cursor) int {
			if orderKey(&rec.order, c.UpdatedAt, c.ID) < 0 {
				return -1
			}
			return 1
		})
		page = all[max(0, j-limit):j]
	}

	// Assembled by hand: re-marshalling the raw orders would validate and
	// compact every byte again, which makes large walks slow under -race.
	var buf bytes.Buffer
	buf.WriteString(`{"orders":[`)
	for i, rec := range page {
		raw, err := orderWire(rec, fields)
		if err != nil {
			return errorReply(http.StatusInternalServerError, err.Error())
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(raw)
	}
	buf.WriteString(`]}`)
	rep := reply{status: http.StatusOK, body: buf.Bytes()}

	var links []string
	if len(page) > 0 {
		first, last := page[0], page[len(page)-1]
		base := s.linkBase(r, version)
		mk := func(dir string, rec *orderRecord) string {
			c := cursor{Query: filter.rawQueryForm, Direction: dir, UpdatedAt: rec.order.UpdatedAt, ID: rec.order.ID}
			u := base + "?limit=" + strconv.Itoa(limit) + "&page_info=" + c.encode()
			if len(fields) > 0 {
				u += "&fields=" + url.QueryEscape(strings.Join(fields, ","))
			}
			rel := map[string]string{"prev": "previous", "next": "next"}[dir]
			return "<" + u + ">; rel=\"" + rel + "\""
		}
		if pos != nil && all[0] != first {
			links = append(links, mk("prev", first))
		}
		if all[len(all)-1] != last {
			links = append(links, mk("next", last))
		}
	}
	if len(links) > 0 {
		rep.header = http.Header{"Link": {strings.Join(links, ", ")}}
	}
	return rep
}

// linkBase is the URL of orders.json as the client addressed it: Shopify's
// https://<shop>/... when the request named the shop (a client rewriting the
// host in its transport), else the fake's own address.
func (s *Server) linkBase(r *http.Request, version string) string {
	p := "/admin/api/" + version + "/orders.json"
	if own, err := url.Parse(s.ts.URL); err == nil && r.Host != own.Host {
		return "https://" + r.Host + p
	}
	return s.ts.URL + p
}
