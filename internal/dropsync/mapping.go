package dropsync

import (
	"slices"
	"strings"

	"github.com/shopspring/decimal"
)

// Mapping is one row of the merchant's supplier mappings: which supplier SKU, how many of it
// and at what cost fulfil one unit of a storefront SKU. Rows of one SKU with the same
// Priority form a bundle; the lowest priority wins and higher ones are fallbacks.
type Mapping struct {
	Shop        string          `json:"shop"`
	SKU         string          `json:"sku"`
	Supplier    string          `json:"supplier"`
	SupplierSKU string          `json:"supplier_sku"`
	UnitCost    decimal.Decimal `json:"unit_cost"`
	Currency    string          `json:"currency"`
	Quantity    int             `json:"quantity"`
	Priority    int             `json:"priority"`
	// Countries the row may ship to (ISO 3166-1 alpha-2); empty means everywhere.
	Countries []string `json:"countries,omitempty"`
	// Line is the row's line number in the CSV it came from.
	Line int `json:"line,omitempty"`
}

// ShipsTo reports whether the row may ship to the country.
func (m Mapping) ShipsTo(country string) bool {
	return len(m.Countries) == 0 || slices.Contains(m.Countries, strings.ToUpper(country))
}
