package printfultest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/connectors/supplier/supplierfake"
)

// reply is an answer worked out under the lock and written after it.
type reply struct {
	status int
	body   any
	header http.Header
}

type envelope struct {
	Code   int     `json:"code"`
	Result any     `json:"result"`
	Error  *apiErr `json:"error,omitempty"`
}

type apiErr struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func ok(result any) reply {
	return reply{status: http.StatusOK, body: envelope{Code: http.StatusOK, Result: result}}
}

// fail is Printful's error envelope: the result repeats the message.
func fail(status int, format string, args ...any) reply {
	msg := fmt.Sprintf(format, args...)
	reason := strings.ReplaceAll(http.StatusText(status), " ", "")
	return reply{status: status, body: envelope{Code: status, Result: msg, Error: &apiErr{Reason: reason, Message: msg}}}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, body []byte) {
	rep := s.route(r, body)
	supplierfake.WriteJSON(w, rep.status, rep.header, rep.body, []byte(`{"code":500,"result":"encode"}`))
}

func (s *Server) route(r *http.Request, body []byte) reply {
	seg, good := supplierfake.Segments(r.URL)
	isPlace := good && len(seg) == 1 && seg[0] == "orders" && r.Method == http.MethodPost
	if isPlace {
		s.srv.CountPlace()
	}
	if !supplierfake.BearerAuthorized(r, s.opts.Token) {
		return fail(http.StatusUnauthorized, "Malformed or invalid access token")
	}
	if s.opts.StoreID != "" && r.Header.Get("X-PF-Store-Id") != s.opts.StoreID {
		return fail(http.StatusForbidden, "This API key cannot access the requested store")
	}
	if rep, limited := s.limit(); limited {
		return rep
	}
	rep := s.handle(r, body, seg, good, isPlace)
	s.mu.Lock()
	rep.header = s.limitHeaders(rep.header)
	s.mu.Unlock()
	return rep
}

func (s *Server) handle(r *http.Request, body []byte, seg []string, good, isPlace bool) reply {
	if !good {
		return fail(http.StatusNotFound, "Not Found")
	}
	switch {
	case isPlace:
		return s.place(r, body)
	case len(seg) == 2 && seg[0] == "orders" && r.Method == http.MethodGet:
		return s.get(seg[1])
	case len(seg) == 2 && seg[0] == "orders" && r.Method == http.MethodDelete:
		return s.cancel(seg[1])
	case len(seg) == 3 && seg[0] == "store" && seg[1] == "variants" && r.Method == http.MethodGet:
		return s.syncVariant(seg[2])
	case len(seg) == 3 && seg[0] == "products" && seg[1] == "variant" && r.Method == http.MethodGet:
		return s.catalogVariant(seg[2])
	}
	return fail(http.StatusNotFound, "Not Found")
}

// limit counts the call against the minute's budget and refuses it when spent.
func (s *Server) limit() (reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.RateLimit <= 0 {
		return reply{}, false
	}
	now := s.now()
	if s.windowStart.IsZero() || now.Sub(s.windowStart) >= RateLimitWindow {
		s.windowStart, s.windowCalls = now, 0
	}
	s.windowCalls++
	if s.windowCalls <= s.opts.RateLimit {
		return reply{}, false
	}
	reset := s.resetSeconds(now)
	rep := fail(http.StatusTooManyRequests, "Too Many Requests. Please try again after %d seconds.", reset)
	rep.header = s.limitHeaders(nil)
	return rep, true
}

func (s *Server) resetSeconds(now time.Time) int {
	left := RateLimitWindow - now.Sub(s.windowStart)
	return max(1, int((left+time.Second-1)/time.Second))
}

func (s *Server) limitHeaders(h http.Header) http.Header {
	if s.opts.RateLimit <= 0 {
		return h
	}
	if h == nil {
		h = http.Header{}
	}
	h.Set("X-Ratelimit-Limit", strconv.Itoa(s.opts.RateLimit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(max(0, s.opts.RateLimit-s.windowCalls)))
	h.Set("X-Ratelimit-Reset", strconv.Itoa(s.resetSeconds(s.now())))
	return h
}

func (s *Server) place(r *http.Request, body []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status, failed := s.srv.TakeFailure(); failed {
		if status == http.StatusTooManyRequests {
			wait := strconv.Itoa(RetryAfterSeconds)
			rep := fail(http.StatusTooManyRequests, "Too Many Requests. Please try again after %s seconds.", wait)
			rep.header = http.Header{"Retry-After": {wait}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {wait}}
			return rep
		}
		return fail(status, "Injected failure")
	}
	rep := s.placeLocked(r, body)
	if rep.status == http.StatusOK && s.srv.TakeLostReply() {
		return fail(http.StatusInternalServerError, "Internal Server Error")
	}
	return rep
}

// stateCountries are the countries whose addresses Printful requires a state code for.
var stateCountries = []string{"US", "CA", "AU"}

func (s *Server) placeLocked(r *http.Request, body []byte) reply {
	var req PlaceRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return fail(http.StatusBadRequest, "Invalid request body: %v", err)
	}
	if req.ExternalID != "" {
		if _, dup := s.byExt[req.ExternalID]; dup {
			return fail(http.StatusBadRequest, "Order with this External ID already exists")
		}
	}
	rc := req.Recipient
	country := strings.ToUpper(strings.TrimSpace(rc.CountryCode))
	switch {
	case strings.TrimSpace(rc.Name) == "":
		return fail(http.StatusBadRequest, "Recipient: Name is missing")
	case strings.TrimSpace(rc.Address1) == "":
		// Printful quotes the address it could not use; dropsync must not repeat it.
		return fail(http.StatusBadRequest, "Recipient: Street address is missing (%s, %s %s)", rc.Name, rc.City, rc.Zip)
	case strings.TrimSpace(rc.City) == "":
		return fail(http.StatusBadRequest, "Recipient: City is missing")
	case country == "":
		return fail(http.StatusBadRequest, "Recipient: Country code is missing")
	case strings.TrimSpace(rc.Zip) == "":
		return fail(http.StatusBadRequest, "Recipient: ZIP/Postal code is missing")
	case len(s.opts.Countries) > 0 && !slices.Contains(s.opts.Countries, country):
		return fail(http.StatusBadRequest, "Recipient: Printful can't ship to %s", country)
	case slices.Contains(stateCountries, country) && strings.TrimSpace(rc.StateCode) == "":
		return fail(http.StatusBadRequest, "Recipient: State code is missing")
	case len(req.Items) == 0:
		return fail(http.StatusBadRequest, "Items: Order must contain at least one item")
	}
	var items []Item
	sub := decimal.Zero
	for i, it := range req.Items {
		if it.Quantity <= 0 {
			return fail(http.StatusBadRequest, "Item %d: Quantity must be a positive number", i)
		}
		var v *Variant
		switch {
		case it.SyncVariantID != 0:
			v = s.variants[it.SyncVariantID]
			if v == nil {
				return fail(http.StatusBadRequest, "Item %d: Sync variant with ID: %d does not exist.", i, it.SyncVariantID)
			}
		case it.ExternalVariantID != "":
			v = s.variantByExternal(it.ExternalVariantID)
			if v == nil {
				return fail(http.StatusBadRequest, "Item %d: Sync variant with external ID: %s does not exist.", i, it.ExternalVariantID)
			}
		default:
			return fail(http.StatusBadRequest, "Item %d: Files are missing or the variant is not specified", i)
		}
		if !v.InStock {
			return fail(http.StatusBadRequest, "Item %d: Product variant %d is out of stock", i, v.SyncVariantID)
		}
		s.itemSeq++
		name := it.Name
		if name == "" {
			name = v.Name
		}
		items = append(items, Item{ID: s.itemSeq, ExternalID: it.ExternalID, VariantID: v.CatalogVariantID,
			SyncVariantID: v.SyncVariantID, ExternalVariantID: v.ExternalID, Quantity: it.Quantity,
			Price: v.Price, Name: name})
		price, _ := decimal.NewFromString(v.Price)
		sub = sub.Add(price.Mul(decimal.NewFromInt(int64(it.Quantity))))
	}
	status := StatusDraft
	if c := r.URL.Query().Get("confirm"); c == "true" || c == "1" {
		status = StatusPending
	}
	now := s.now()
	s.seq++
	shipping := req.Shipping
	if shipping == "" {
		shipping = "STANDARD"
	}
	o := &Order{
		ID: s.seq, ExternalID: req.ExternalID, Store: 12345, Status: status, Shipping: shipping,
		Created: now.Unix(), Updated: now.Unix(), Recipient: rc, Items: items,
		Costs: Costs{Currency: "USD", Subtotal: sub.StringFixed(2), Shipping: "4.99",
			Total: sub.Add(decimal.RequireFromString("4.99")).StringFixed(2)},
		Shipments: []Shipment{}, PackingSlip: req.PackingSlip,
	}
	s.orders[o.ID] = o
	if o.ExternalID != "" {
		s.byExt[o.ExternalID] = o
	}
	s.list = append(s.list, o)
	s.placedAt[o.ID] = now
	s.srv.CountCreated()
	return ok(o.clone())
}

// find resolves an {id} of /orders/{id}: Printful's id, or "@" and the external id.
func (s *Server) find(id string) *Order {
	if ext, isExt := strings.CutPrefix(id, "@"); isExt {
		return s.byExt[ext]
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil
	}
	return s.orders[n]
}

func (s *Server) get(id string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.find(id)
	if o == nil {
		return fail(http.StatusNotFound, "Not Found")
	}
	return ok(o.clone())
}

func (s *Server) cancel(id string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.find(id)
	if o == nil {
		return fail(http.StatusNotFound, "Not Found")
	}
	switch o.Status {
	case StatusDraft, StatusPending, StatusFailed, StatusOnHold:
	default:
		return fail(http.StatusBadRequest, "Order with status %s can not be canceled", o.Status)
	}
	o.Status = StatusCanceled
	o.Updated = s.now().Unix()
	return ok(o.clone())
}

type syncVariantBody struct {
	ID                 int64  `json:"id"`
	ExternalID         string `json:"external_id"`
	SyncProductID      int64  `json:"sync_product_id"`
	Name               string `json:"name"`
	Synced             bool   `json:"synced"`
	VariantID          int64  `json:"variant_id"`
	RetailPrice        string `json:"retail_price"`
	Currency           string `json:"currency"`
	AvailabilityStatus string `json:"availability_status"`
}

func (s *Server) syncVariant(id string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	var v *Variant
	if ext, isExt := strings.CutPrefix(id, "@"); isExt {
		v = s.variantByExternal(ext)
	} else if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		v = s.variants[n]
	}
	if v == nil {
		return fail(http.StatusNotFound, "Not Found")
	}
	status := "active"
	if !v.InStock {
		status = "temporary_out_of_stock"
	}
	return ok(syncVariantBody{ID: v.SyncVariantID, ExternalID: v.ExternalID, SyncProductID: v.SyncVariantID / 10,
		Name: v.Name, Synced: true, VariantID: v.CatalogVariantID, Currency: "USD", AvailabilityStatus: status})
}

type catalogVariantBody struct {
	Variant struct {
		ID        int64  `json:"id"`
		ProductID int64  `json:"product_id"`
		Name      string `json:"name"`
		Price     string `json:"price"`
		InStock   bool   `json:"in_stock"`
	} `json:"variant"`
	Product struct {
		ID   int64  `json:"id"`
		Type string `json:"type"`
	} `json:"product"`
}

func (s *Server) catalogVariant(id string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return fail(http.StatusNotFound, "Not Found")
	}
	for _, v := range s.variants {
		if v.CatalogVariantID == n {
			var b catalogVariantBody
			b.Variant.ID, b.Variant.ProductID, b.Variant.Name = n, n/100, v.Name
			b.Variant.Price, b.Variant.InStock = v.Price, v.InStock
			b.Product.ID, b.Product.Type = n/100, "T-SHIRT"
			return ok(b)
		}
	}
	return fail(http.StatusNotFound, "Not Found")
}
