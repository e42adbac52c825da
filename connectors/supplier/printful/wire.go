package printful

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// The wire types spell out the parts of Printful's API v1 objects dropsync sends and reads,
// apart from the domain's JSON tags: Printful's API must not move when the domain does.

type wirePlaceOrder struct {
	ExternalID  string           `json:"external_id"`
	Shipping    string           `json:"shipping"`
	Recipient   wireRecipient    `json:"recipient"`
	Items       []wirePlaceItem  `json:"items"`
	PackingSlip *wirePackingSlip `json:"packing_slip,omitempty"`
}

type wireRecipient struct {
	Name        string `json:"name"`
	Company     string `json:"company,omitempty"`
	Address1    string `json:"address1"`
	Address2    string `json:"address2,omitempty"`
	City        string `json:"city"`
	StateCode   string `json:"state_code,omitempty"`
	StateName   string `json:"state_name,omitempty"`
	CountryCode string `json:"country_code"`
	CountryName string `json:"country_name,omitempty"`
	Zip         string `json:"zip"`
	Phone       string `json:"phone,omitempty"`
	Email       string `json:"email,omitempty"`
}

type wirePlaceItem struct {
	ExternalID        string `json:"external_id"`
	SyncVariantID     int64  `json:"sync_variant_id,omitempty"`
	ExternalVariantID string `json:"external_variant_id,omitempty"`
	Quantity          int    `json:"quantity"`
	Name              string `json:"name,omitempty"`
}

type wirePackingSlip struct {
	StoreName     string `json:"store_name,omitempty"`
	Message       string `json:"message,omitempty"`
	CustomOrderID string `json:"custom_order_id,omitempty"`
}

type wireOrder struct {
	ID         int64          `json:"id"`
	ExternalID string         `json:"external_id"`
	Status     string         `json:"status"`
	Items      []wireItem     `json:"items"`
	Shipments  []wireShipment `json:"shipments"`
}

type wireItem struct {
	ID                int64  `json:"id"`
	ExternalID        string `json:"external_id"`
	SyncVariantID     int64  `json:"sync_variant_id"`
	ExternalVariantID string `json:"external_variant_id"`
	Quantity          int    `json:"quantity"`
}

type wireShipment struct {
	ID             int64     `json:"id"`
	Carrier        string    `json:"carrier"`
	Service        string    `json:"service"`
	TrackingNumber string    `json:"tracking_number"`
	TrackingURL    string    `json:"tracking_url"`
	Created        unixTime  `json:"created"`
	ShippedAt      unixTime  `json:"shipped_at"`
	Reshipment     bool      `json:"reshipment"`
	Items          []wireQty `json:"items"`
}

type wireQty struct {
	ItemID   int64 `json:"item_id"`
	Quantity int   `json:"quantity"`
}

type wireSyncVariant struct {
	ID                 int64  `json:"id"`
	ExternalID         string `json:"external_id"`
	VariantID          int64  `json:"variant_id"`
	AvailabilityStatus string `json:"availability_status"`
}

// available reports whether the store variant can be ordered. Printful's documentation
// lists "active" for a variant it produces; an empty status is taken to mean the same.
func (v wireSyncVariant) available() bool {
	switch strings.ToLower(v.AvailabilityStatus) {
	case "", "active", "in_stock":
		return true
	}
	return false
}

type wireCatalogVariant struct {
	Variant struct {
		ID       int64            `json:"id"`
		Price    *decimal.Decimal `json:"price"`
		Currency string           `json:"currency"`
		InStock  bool             `json:"in_stock"`
	} `json:"variant"`
}

// unixTime is a Printful timestamp: Unix seconds, sent as a number or a numeric string.
type unixTime struct{ time.Time }

func (t *unixTime) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		// Some replies use an RFC 3339 time; accept it rather than lose the parcel.
		p, perr := time.Parse(time.RFC3339, string(b))
		if perr != nil {
			return fmt.Errorf("timestamp %q: %w", b, errors.Join(err, perr))
		}
		t.Time = p.UTC()
		return nil
	}
	if n > 0 {
		t.Time = time.Unix(n, 0).UTC()
	}
	return nil
}

// statuses maps Printful's order statuses onto dropsync's purchase order statuses; a status
// missing here ("archived", or one Printful adds) reports no status, which moves nothing.
var statuses = map[string]dropsync.POState{
	"draft":     dropsync.POAccepted,
	"pending":   dropsync.POAccepted,
	"onhold":    dropsync.POAccepted,
	"inprocess": dropsync.POInProduction,
	"partial":   dropsync.POPartiallyShipped,
	"fulfilled": dropsync.POShipped,
	"canceled":  dropsync.POCancelled,
	"cancelled": dropsync.POCancelled,
	"failed":    dropsync.POFailed,
}

// domain turns the Printful order into dropsync's. now dates a parcel Printful does not date.
func (o wireOrder) domain(now func() time.Time) dropsync.SupplierOrder {
	out := dropsync.SupplierOrder{
		ID:         strconv.FormatInt(o.ID, 10),
		ExternalID: o.ExternalID,
		Status:     string(statuses[strings.ToLower(o.Status)]),
	}
	for _, sh := range o.Shipments {
		d := dropsync.Shipment{
			ID:             strconv.FormatInt(sh.ID, 10),
			Carrier:        sh.Carrier,
			TrackingNumber: sh.TrackingNumber,
			TrackingURL:    sh.TrackingURL,
			ShippedAt:      sh.ShippedAt.Time,
		}
		if d.ShippedAt.IsZero() {
			d.ShippedAt = sh.Created.Time
		}
		if d.ShippedAt.IsZero() {
			d.ShippedAt = now().UTC().Truncate(time.Second)
		}
		if d.Carrier == "" {
			d.Carrier = sh.Service
		}
		for _, q := range sh.Items {
			if sku := o.itemSKU(q.ItemID); sku != "" && q.Quantity > 0 {
				d.Items = append(d.Items, dropsync.ShipmentItem{SKU: sku, Quantity: q.Quantity})
			}
		}
		out.Shipments = append(out.Shipments, d)
	}
	return out
}

// itemSKU is the supplier_sku the order item was placed with: its external_id, which
// dropsync sets, else its variant reference.
func (o wireOrder) itemSKU(itemID int64) string {
	for _, it := range o.Items {
		if it.ID != itemID {
			continue
		}
		switch {
		case it.ExternalID != "":
			return it.ExternalID
		case it.SyncVariantID != 0:
			return strconv.FormatInt(it.SyncVariantID, 10)
		case it.ExternalVariantID != "":
			return "@" + it.ExternalVariantID
		}
	}
	return ""
}

func (s *Supplier) placeBody(req dropsync.SupplierOrderRequest) (wirePlaceOrder, error) {
	a := req.ShippingAddress
	method := req.ShippingMethod
	if method == "" {
		method = s.cfg.ShippingMethod
	}
	body := wirePlaceOrder{
		ExternalID: req.ExternalID,
		Shipping:   strings.ToUpper(method),
		Recipient: wireRecipient{
			Name:        a.FullName(),
			Company:     a.Company,
			Address1:    a.Address1,
			Address2:    a.Address2,
			City:        a.City,
			StateCode:   a.ProvinceCode,
			StateName:   a.Province,
			CountryCode: strings.ToUpper(a.CountryCode),
			CountryName: a.Country,
			Zip:         a.Zip,
			Phone:       a.Phone,
			Email:       req.Email,
		},
		Items: make([]wirePlaceItem, len(req.Items)),
	}
	for i, it := range req.Items {
		if it.Quantity <= 0 {
			return wirePlaceOrder{}, dropsync.Errorf(dropsync.EINVALID, "item %d has no quantity", i)
		}
		ref, err := parseVariantRef(it.SKU)
		if err != nil {
			return wirePlaceOrder{}, dropsync.Rejection(dropsync.ReasonUnknownSKU, it.SKU, err.Error())
		}
		w := wirePlaceItem{ExternalID: it.SKU, Quantity: it.Quantity, Name: it.Title}
		if ref.sync != 0 {
			w.SyncVariantID = ref.sync
		} else {
			w.ExternalVariantID = ref.external
		}
		body.Items[i] = w
	}
	slip := wirePackingSlip{CustomOrderID: req.OrderName}
	if ps := req.PackingSlip; ps != nil {
		slip.StoreName, slip.Message = ps.StoreName, ps.Message
	}
	if slip != (wirePackingSlip{}) {
		body.PackingSlip = &slip
	}
	return body, nil
}

// variantRef is a supplier_sku: a sync variant id, or an external variant id.
type variantRef struct {
	sync     int64
	external string
}

// parseVariantRef reads "<digits>", "sync:<digits>" or "@<external variant id>".
func parseVariantRef(sku string) (variantRef, error) {
	sku = strings.TrimSpace(sku)
	if ext, ok := strings.CutPrefix(sku, "@"); ok {
		if ext == "" {
			return variantRef{}, errors.New("supplier_sku \"@\" names no external variant id")
		}
		return variantRef{external: ext}, nil
	}
	digits := strings.TrimPrefix(sku, "sync:")
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 {
		return variantRef{}, fmt.Errorf("supplier_sku %q is not a Printful variant (a sync variant id, or @ and an external variant id)", sku)
	}
	return variantRef{sync: n}, nil
}

// path is the {id} of /store/variants/{id}.
func (r variantRef) path() string {
	if r.sync != 0 {
		return strconv.FormatInt(r.sync, 10)
	}
	return "@" + r.external
}

// id is the variant's id as Printful's messages would quote it.
func (r variantRef) id() string {
	if r.sync != 0 {
		return strconv.FormatInt(r.sync, 10)
	}
	return r.external
}
