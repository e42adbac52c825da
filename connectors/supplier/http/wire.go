package http

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// The wire types spell out supplier-http-v1 field by field, apart from the domain's JSON
// tags: the protocol is a contract with suppliers and must not move when the domain does.

type wirePlaceOrder struct {
	ExternalID      string           `json:"external_id"`
	OrderName       string           `json:"order_name"`
	Currency        string           `json:"currency"`
	ShippingAddress wireAddress      `json:"shipping_address"`
	Items           []wireItem       `json:"items"`
	ShippingMethod  string           `json:"shipping_method"`
	Note            string           `json:"note"`
	PackingSlip     *wirePackingSlip `json:"packing_slip,omitempty"`
}

type wireAddress struct {
	Name         string `json:"name"`
	Company      string `json:"company"`
	Address1     string `json:"address1"`
	Address2     string `json:"address2"`
	City         string `json:"city"`
	ProvinceCode string `json:"province_code"`
	Zip          string `json:"zip"`
	CountryCode  string `json:"country_code"`
	Phone        string `json:"phone"`
	Email        string `json:"email"`
}

type wireItem struct {
	SKU        string         `json:"sku"`
	Quantity   int            `json:"quantity"`
	UnitCost   string         `json:"unit_cost"`
	Properties []wireProperty `json:"properties,omitempty"`
}

type wireProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type wirePackingSlip struct {
	StoreName string `json:"store_name"`
	Message   string `json:"message"`
}

type wireOrder struct {
	ID         string         `json:"id"`
	ExternalID string         `json:"external_id"`
	Status     string         `json:"status"`
	Shipments  []wireShipment `json:"shipments"`
}

type wireShipment struct {
	ID             string             `json:"id"`
	Carrier        string             `json:"carrier"`
	TrackingNumber string             `json:"tracking_number"`
	TrackingURL    string             `json:"tracking_url"`
	Items          []wireShipmentItem `json:"items"`
	ShippedAt      time.Time          `json:"shipped_at"`
}

type wireShipmentItem struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

type wireInventory struct {
	Items []struct {
		SKU       string `json:"sku"`
		Available int    `json:"available"`
		// A pointer tells a missing cost from a zero one; decimal accepts "4.20" and 4.20.
		UnitCost *decimal.Decimal `json:"unit_cost"`
		Currency string           `json:"currency"`
	} `json:"items"`
}

type wireError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		SKU     string `json:"sku"`
	} `json:"error"`
}

type wireEvent struct {
	Event string          `json:"event"`
	Order json.RawMessage `json:"order"`
}

func (s *Supplier) placeBody(req dropsync.SupplierOrderRequest) wirePlaceOrder {
	a := req.ShippingAddress
	body := wirePlaceOrder{
		ExternalID: req.ExternalID,
		OrderName:  req.OrderName,
		Currency:   req.Currency,
		ShippingAddress: wireAddress{
			Name:         a.FullName(),
			Company:      a.Company,
			Address1:     a.Address1,
			Address2:     a.Address2,
			City:         a.City,
			ProvinceCode: a.ProvinceCode,
			Zip:          a.Zip,
			CountryCode:  a.CountryCode,
			Phone:        a.Phone,
			Email:        req.Email,
		},
		Items:          make([]wireItem, len(req.Items)),
		ShippingMethod: req.ShippingMethod,
		Note:           req.Note,
	}
	if body.ShippingMethod == "" {
		body.ShippingMethod = s.cfg.ShippingMethod
	}
	for i, it := range req.Items {
		w := wireItem{SKU: it.SKU, Quantity: it.Quantity, UnitCost: formatAmount(it.UnitCost)}
		for _, p := range it.Properties {
			w.Properties = append(w.Properties, wireProperty(p))
		}
		body.Items[i] = w
	}
	if ps := req.PackingSlip; ps != nil {
		body.PackingSlip = &wirePackingSlip{StoreName: ps.StoreName, Message: ps.Message}
	}
	return body
}

// formatAmount writes money as suppliers expect it: at least two decimals ("4.20", not
// "4.2"), and every decimal a cost has (a cost of "0.125" per unit stays exact).
func formatAmount(d decimal.Decimal) string {
	s := d.String()
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 >= 2 {
		return s
	}
	return d.StringFixed(2)
}

func (o wireOrder) domain() dropsync.SupplierOrder {
	out := dropsync.SupplierOrder{ID: o.ID, ExternalID: o.ExternalID, Status: o.Status}
	for _, sh := range o.Shipments {
		d := dropsync.Shipment{
			ID:             sh.ID,
			Carrier:        sh.Carrier,
			TrackingNumber: sh.TrackingNumber,
			TrackingURL:    sh.TrackingURL,
			ShippedAt:      sh.ShippedAt.UTC(),
		}
		for _, it := range sh.Items {
			d.Items = append(d.Items, dropsync.ShipmentItem(it))
		}
		out.Shipments = append(out.Shipments, d)
	}
	return out
}
