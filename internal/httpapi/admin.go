package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/invoice"
	"github.com/dropsync/dropsync/internal/mapping"
)

func (s *Server) routeAdmin() {
	admin := func(pattern string, h http.HandlerFunc) {
		s.mux.Handle(pattern, s.RequireAdmin(h))
	}
	admin("/api/", NotFound)
	admin("/api/v1/shops/{shop}/orders", methods(s.listOrders, http.MethodGet))
	admin("/api/v1/shops/{shop}/orders/{id}", methods(s.getOrder, http.MethodGet))
	admin("/api/v1/shops/{shop}/orders/{id}/release", methods(s.releaseOrder, http.MethodPost))
	admin("/api/v1/shops/{shop}/mappings", methods(s.mappings, http.MethodGet, http.MethodPut))
	admin("/api/v1/invoices/{number}", methods(s.getInvoice, http.MethodGet))
	s.routeExports(admin)
}

// OrderView is the admin API's JSON for one order (DESIGN.md's contract, with a few
// additions). It carries no customer data.
type OrderView struct {
	ID             int64               `json:"id"`
	Shop           string              `json:"shop"`
	Name           string              `json:"name"`
	State          dropsync.OrderState `json:"state"`
	HoldReason     string              `json:"hold_reason"`
	Holds          []dropsync.Hold     `json:"holds"`
	CancelNotice   string              `json:"cancel_notice,omitempty"`
	Notices        []dropsync.Event    `json:"notices"`
	FinancialState string              `json:"financial_status"`
	Currency       string              `json:"currency"`
	TotalPrice     string              `json:"total_price"`
	CreatedAt      time.Time           `json:"created_at"`
	UpdatedAt      time.Time           `json:"updated_at"`
	PurchaseOrders []POView            `json:"purchase_orders"`
	InvoiceNumber  *string             `json:"invoice_number"`
	InvoiceError   string              `json:"invoice_error,omitempty"`
	Timeline       []dropsync.Event    `json:"timeline"`
}

// POView is one purchase order in OrderView.
type POView struct {
	ID              string           `json:"id"`
	Supplier        string           `json:"supplier"`
	SupplierOrderID *string          `json:"supplier_order_id"`
	State           dropsync.POState `json:"state"`
	Error           string           `json:"error,omitempty"`
	Items           []POItemView     `json:"items"`
	Shipments       []ShipmentView   `json:"shipments"`
}

// POItemView is one supplier SKU of a purchase order.
type POItemView struct {
	SKU         string `json:"sku"`
	SupplierSKU string `json:"supplier_sku"`
	Quantity    int    `json:"quantity"`
	UnitCost    string `json:"unit_cost"`
	Currency    string `json:"currency"`
}

// ShipmentView is one parcel.
type ShipmentView struct {
	ID             string `json:"id"`
	Carrier        string `json:"carrier"`
	TrackingNumber string `json:"tracking_number"`
	TrackingURL    string `json:"tracking_url"`
	Pushed         bool   `json:"pushed"`
	FulfillmentID  int64  `json:"fulfillment_id,omitempty"`
	Note           string `json:"note,omitempty"`
}

// NewOrderView builds the admin JSON of an order.
func NewOrderView(o dropsync.Order) OrderView {
	v := OrderView{ID: o.ID, Shop: o.Shop, Name: o.Name, State: o.State, HoldReason: o.HoldReason,
		Holds: o.Holds, CancelNotice: o.CancelNotice, Notices: o.Notices, InvoiceError: o.InvoiceError, FinancialState: o.FinancialStatus, Currency: o.Currency,
		TotalPrice: o.TotalPrice.String(), CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
		PurchaseOrders: []POView{}, Timeline: o.Timeline}
	if v.Holds == nil {
		v.Holds = []dropsync.Hold{}
	}
	if v.Notices == nil {
		v.Notices = []dropsync.Event{}
	}
	if v.Timeline == nil {
		v.Timeline = []dropsync.Event{}
	}
	if o.InvoiceNumber != "" {
		n := o.InvoiceNumber
		v.InvoiceNumber = &n
	}
	for _, po := range o.PurchaseOrders {
		pv := POView{ID: po.ID, Supplier: po.Supplier, State: po.State, Error: po.Error,
			Items: []POItemView{}, Shipments: []ShipmentView{}}
		if po.SupplierOrderID != "" {
			id := po.SupplierOrderID
			pv.SupplierOrderID = &id
		}
		for _, it := range po.Items {
			pv.Items = append(pv.Items, POItemView{SKU: it.SKU, SupplierSKU: it.SupplierSKU, Quantity: it.Quantity,
				UnitCost: it.UnitCost.Amount.String(), Currency: it.UnitCost.Currency})
		}
		for _, sh := range po.Shipments {
			pv.Shipments = append(pv.Shipments, ShipmentView{ID: sh.ID, Carrier: sh.Carrier,
				TrackingNumber: sh.TrackingNumber, TrackingURL: sh.TrackingURL, Pushed: sh.Pushed,
				FulfillmentID: sh.FulfillmentID, Note: sh.Note})
		}
		v.PurchaseOrders = append(v.PurchaseOrders, pv)
	}
	return v
}

// shopParam returns the {shop} path value if it is a configured shop (ENOTFOUND otherwise).
func (s *Server) shopParam(r *http.Request) (string, error) {
	shop := strings.ToLower(r.PathValue("shop"))
	if _, ok := s.cfg.Shop(shop); !ok {
		return "", dropsync.Errorf(dropsync.ENOTFOUND, "unknown shop %q", r.PathValue("shop"))
	}
	return shop, nil
}

func orderIDParam(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, dropsync.Errorf(dropsync.ENOTFOUND, "no order %q: order ids are Shopify's numeric ids", r.PathValue("id"))
	}
	return id, nil
}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) {
	shop, err := s.shopParam(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	q := r.URL.Query()
	state := dropsync.OrderState(q.Get("state"))
	if state != "" && !state.Valid() {
		WriteError(w, r, dropsync.Errorf(dropsync.EINVALID, "unknown state %q; one of %v", state, dropsync.OrderStates))
		return
	}
	limit := 50
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			WriteError(w, r, dropsync.Errorf(dropsync.EINVALID, "limit must be a whole number from 1 to 1000"))
			return
		}
		limit = n
	}
	orders, err := s.deps.Orders.Orders(r.Context(), shop, state, limit)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	views := make([]OrderView, 0, len(orders))
	for _, o := range orders {
		views = append(views, NewOrderView(o))
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": views, "count": len(views)})
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	shop, err := s.shopParam(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	id, err := orderIDParam(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	o, err := s.deps.Orders.Order(r.Context(), shop, id)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, NewOrderView(o))
}

// ReleaseRequest is the optional body of POST …/release.
type ReleaseRequest struct {
	Override bool   `json:"override"`
	Note     string `json:"note"`
}

func (s *Server) releaseOrder(w http.ResponseWriter, r *http.Request) {
	shop, err := s.shopParam(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	id, err := orderIDParam(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	body, err := ReadBody(w, r, 64<<10)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	var req ReleaseRequest
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			WriteError(w, r, dropsync.Errorf(dropsync.EINVALID, "release body must be {\"override\": bool, \"note\": string}: %v", err))
			return
		}
	}
	if req.Override && strings.TrimSpace(req.Note) == "" {
		WriteError(w, r, dropsync.Errorf(dropsync.EINVALID, "an override needs a note saying why"))
		return
	}
	o, err := s.deps.Releaser.Release(r.Context(), shop, id, req.Override, req.Note)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, NewOrderView(o))
}

func (s *Server) mappings(w http.ResponseWriter, r *http.Request) {
	shop, err := s.shopParam(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if r.Method == http.MethodPut {
		s.putMappings(w, r, shop)
		return
	}
	rows, err := s.deps.Mappings.Mappings(r.Context(), shop)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if wantsCSV(r) {
		var buf bytes.Buffer
		if err := mapping.Format(&buf, rows); err != nil {
			WriteError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="mappings-`+shop+`.csv"`)
		_, _ = w.Write(buf.Bytes())
		return
	}
	if rows == nil {
		rows = []dropsync.Mapping{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"shop": shop, "mappings": rows, "count": len(rows)})
}

func wantsCSV(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/csv")
}

// putMappings replaces a shop's mappings with a CSV body: every bad row is named and nothing
// changes unless the whole file is good.
func (s *Server) putMappings(w http.ResponseWriter, r *http.Request, shop string) {
	body, err := ReadBody(w, r, 64<<20)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	rows, err := mapping.Parse(bytes.NewReader(body), func(id string) bool {
		_, ok := s.cfg.Supplier(id)
		return ok
	}, shop)
	if err != nil {
		var probs *mapping.Problems
		if errors.As(err, &probs) {
			w.Header().Set("Content-Type", "application/json")
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
				"code": dropsync.EINVALID, "message": "the mappings file has bad rows; nothing was changed",
				"problems": *probs}})
			return
		}
		WriteError(w, r, err)
		return
	}
	version, err := s.deps.Mappings.ReplaceMappings(r.Context(), shop, rows)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"shop": shop, "rows": len(rows), "version": version})
}

func (s *Server) getInvoice(w http.ResponseWriter, r *http.Request) {
	number := r.PathValue("number")
	pdf := strings.HasSuffix(number, ".pdf")
	number = strings.TrimSuffix(number, ".pdf")
	if s.deps.Invoices == nil {
		WriteError(w, r, dropsync.Errorf(dropsync.ENOTFOUND, "no invoice %q", number))
		return
	}
	inv, err := s.deps.Invoices.Invoice(r.Context(), number)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if pdf {
		var buf bytes.Buffer
		if err := invoice.RenderPDF(&buf, inv); err != nil {
			WriteError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `inline; filename="`+number+`.pdf"`)
		_, _ = w.Write(buf.Bytes())
		return
	}
	b, err := inv.JSON()
	if err != nil {
		WriteError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
