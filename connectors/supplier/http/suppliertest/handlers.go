package suppliertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dropsync/dropsync/connectors/supplier/supplierfake"
)

const maxInventorySKUs = 100

var decimalString = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// reply is an answer worked out under the lock and written after it, so a slow client
// never holds up other requests.
type reply struct {
	status int
	body   any
	header http.Header
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	SKU     string `json:"sku,omitempty"`
}

func errorReply(status int, code, format string, args ...any) reply {
	return reply{status: status, body: errorBody{Error: errorDetail{Code: code, Message: fmt.Sprintf(format, args...)}}}
}

func rejection(code, sku, format string, args ...any) reply {
	return reply{status: http.StatusUnprocessableEntity,
		body: errorBody{Error: errorDetail{Code: code, Message: fmt.Sprintf(format, args...), SKU: sku}}}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, body []byte) {
	rep := s.route(r, body)
	supplierfake.WriteJSON(w, rep.status, rep.header, rep.body, []byte(`{"error":{"code":"internal","message":"encode"}}`))
}

func (s *Server) route(r *http.Request, body []byte) reply {
	if r.URL.Path == "/orders" && r.Method == http.MethodPost {
		s.srv.CountPlace()
	}
	if !supplierfake.BearerAuthorized(r, s.opts.Token) {
		return errorReply(http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token")
	}
	if len(body) > supplierfake.MaxBody {
		return errorReply(http.StatusRequestEntityTooLarge, "too_large", "body over %d bytes", supplierfake.MaxBody)
	}
	seg, ok := supplierfake.Segments(r.URL)
	if !ok {
		return errorReply(http.StatusNotFound, "not_found", "no such resource")
	}
	switch {
	case len(seg) == 1 && seg[0] == "orders":
		if r.Method != http.MethodPost {
			return notAllowed(http.MethodPost)
		}
		return s.place(r, body)
	case len(seg) == 2 && seg[0] == "orders":
		if r.Method != http.MethodGet {
			return notAllowed(http.MethodGet)
		}
		return s.get(seg[1])
	case len(seg) == 3 && seg[0] == "orders" && seg[2] == "cancel":
		if r.Method != http.MethodPost {
			return notAllowed(http.MethodPost)
		}
		return s.cancel(seg[1])
	case len(seg) == 1 && seg[0] == "inventory":
		if r.Method != http.MethodGet {
			return notAllowed(http.MethodGet)
		}
		return s.inventory(r.URL.RawQuery)
	}
	return errorReply(http.StatusNotFound, "not_found", "no such resource")
}

func notAllowed(method string) reply {
	r := errorReply(http.StatusMethodNotAllowed, "method_not_allowed", "use %s", method)
	r.header = http.Header{"Allow": {method}}
	return r
}

func (s *Server) place(r *http.Request, body []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status, fail := s.srv.TakeFailure(); fail {
		rep := errorReply(status, faultCode(status), "injected failure")
		if status == http.StatusTooManyRequests {
			rep.header = http.Header{"Retry-After": {strconv.Itoa(RetryAfterSeconds)}}
		}
		return rep
	}
	rep := s.placeLocked(r, body)
	if rep.status >= 200 && rep.status < 300 && s.srv.TakeLostReply() {
		return errorReply(http.StatusInternalServerError, "internal", "injected failure after accepting the order")
	}
	return rep
}

func faultCode(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "rate_limited"
	case status >= 500:
		return "unavailable"
	}
	return strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "_")
}

func (s *Server) placeLocked(r *http.Request, body []byte) reply {
	var req PlaceRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return errorReply(http.StatusBadRequest, "invalid_request", "malformed JSON: %v", err)
	}
	if req.ExternalID == "" {
		return errorReply(http.StatusBadRequest, "invalid_request", "external_id is required")
	}
	if key := r.Header.Get("Idempotency-Key"); key != req.ExternalID {
		return errorReply(http.StatusBadRequest, "invalid_request", "Idempotency-Key must equal external_id")
	}
	// The same external_id is the same order, whatever the body says now.
	if o, ok := s.orders[req.ExternalID]; ok {
		return reply{status: http.StatusOK, body: o.clone()}
	}
	if msg := missing(req); msg != "" {
		return errorReply(http.StatusBadRequest, "invalid_request", "%s", msg)
	}

	a := req.ShippingAddress
	for _, f := range []struct{ name, value string }{
		{"address1", a.Address1}, {"city", a.City}, {"zip", a.Zip}, {"country_code", a.CountryCode},
	} {
		if strings.TrimSpace(f.value) == "" {
			return rejection("invalid_address", "", "shipping_address.%s is required", f.name)
		}
	}
	country := strings.ToUpper(strings.TrimSpace(a.CountryCode))
	if len(s.opts.Countries) > 0 && !slices.Contains(s.opts.Countries, country) {
		return rejection("unsupported_country", "", "we do not ship to %s", country)
	}
	want := map[string]int{}
	for _, it := range req.Items {
		if _, ok := s.catalog[it.SKU]; !ok {
			return rejection("unknown_sku", it.SKU, "unknown sku")
		}
		want[it.SKU] += it.Quantity
	}
	for _, it := range req.Items {
		if avail := s.catalog[it.SKU].Available; want[it.SKU] > avail {
			return rejection("out_of_stock", it.SKU, "only %d available", avail)
		}
	}
	for sku, n := range want {
		it := s.catalog[sku]
		it.Available -= n
		s.catalog[sku] = it
	}

	s.seq++
	o := &Order{
		ID:         s.opts.Prefix + "-" + strconv.Itoa(s.seq),
		ExternalID: req.ExternalID,
		Status:     StatusAccepted,
		Shipments:  []Shipment{},
		Placed:     req,
		CreatedAt:  s.now(),
	}
	s.orders[o.ExternalID] = o
	s.byID[o.ID] = o
	s.list = append(s.list, o)
	s.srv.CountCreated()
	return reply{status: http.StatusCreated, body: o.clone()}
}

// missing names the first required field the request lacks, "" when it is complete.
func missing(req PlaceRequest) string {
	switch {
	case req.OrderName == "":
		return "order_name is required"
	case req.Currency == "":
		return "currency is required"
	case len(req.Items) == 0:
		return "items are required"
	}
	for i, it := range req.Items {
		switch {
		case it.SKU == "":
			return fmt.Sprintf("items[%d].sku is required", i)
		case it.Quantity <= 0:
			return fmt.Sprintf("items[%d].quantity must be positive", i)
		case !decimalString.MatchString(it.UnitCost):
			return fmt.Sprintf("items[%d].unit_cost must be a decimal string", i)
		}
	}
	return ""
}

func (s *Server) get(id string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.byID[id]
	if !ok {
		return errorReply(http.StatusNotFound, "not_found", "no order %s", id)
	}
	return reply{status: http.StatusOK, body: o.clone()}
}

func (s *Server) cancel(id string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.byID[id]
	switch {
	case !ok:
		return errorReply(http.StatusNotFound, "not_found", "no order %s", id)
	case len(o.Shipments) > 0:
		return errorReply(http.StatusConflict, "already_shipped", "order %s has shipped parcels", id)
	case o.Status == StatusCancelled:
		return reply{status: http.StatusOK, body: o.clone()}
	}
	o.Status = StatusCancelled
	// What was reserved for the order goes back on the shelf.
	for _, it := range o.Placed.Items {
		if c, ok := s.catalog[it.SKU]; ok {
			c.Available += it.Quantity
			s.catalog[it.SKU] = c
		}
	}
	return reply{status: http.StatusOK, body: o.clone()}
}

type stockItem struct {
	SKU       string `json:"sku"`
	Available int    `json:"available"`
	UnitCost  string `json:"unit_cost"`
	Currency  string `json:"currency"`
}

// inventory reads skus from the raw query: SKUs are separated by literal commas and each is
// escaped on its own, so a SKU holding a comma survives.
func (s *Server) inventory(rawQuery string) reply {
	var raw string
	found := false
	for part := range strings.SplitSeq(rawQuery, "&") {
		if v, ok := strings.CutPrefix(part, "skus="); ok {
			raw, found = v, true
		}
	}
	if !found || raw == "" {
		return errorReply(http.StatusBadRequest, "invalid_request", "skus is required")
	}
	var skus []string
	for p := range strings.SplitSeq(raw, ",") {
		sku, err := url.QueryUnescape(p)
		if err != nil {
			return errorReply(http.StatusBadRequest, "invalid_request", "skus is badly escaped")
		}
		if sku != "" && !slices.Contains(skus, sku) {
			skus = append(skus, sku)
		}
	}
	if len(skus) > maxInventorySKUs {
		return errorReply(http.StatusBadRequest, "invalid_request", "at most %d skus per request", maxInventorySKUs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []stockItem{}
	for _, sku := range skus {
		if it, ok := s.catalog[sku]; ok {
			items = append(items, stockItem{SKU: sku, Available: max(it.Available, 0), UnitCost: it.UnitCost, Currency: it.Currency})
		}
	}
	return reply{status: http.StatusOK, body: map[string]any{"items": items}}
}
