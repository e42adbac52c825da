package shopifytest

import (
	"net/http"
	"time"
)

// Risk is a fraud assessment of an order.
type Risk struct {
	ID              int64  `json:"id"`
	OrderID         int64  `json:"order_id"`
	CheckoutID      *int64 `json:"checkout_id"`
	Source          string `json:"source"`
	Score           string `json:"score"`
	Recommendation  string `json:"recommendation"`
	Display         bool   `json:"display"`
	CauseCancel     bool   `json:"cause_cancel"`
	Message         string `json:"message"`
	MerchantMessage string `json:"merchant_message"`
}

// SetRisk replaces an order's risk assessment with one whose recommendation
// is "accept", "investigate" or "cancel". An order without one reports no
// risks. It reports whether the order exists.
func (s *Server) SetRisk(orderID int64, recommendation string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.orders[orderID]
	if !ok {
		return false
	}
	score, msg := "0.0", "This order has a low risk of fraud."
	switch recommendation {
	case "investigate":
		score, msg = "0.5", "This order has a medium risk of fraud."
	case "cancel":
		score, msg = "1.0", "This order has a high risk of fraud."
	}
	rec.risks = []Risk{{
		ID: s.newID(), OrderID: orderID, Source: "External", Score: score,
		Recommendation: recommendation, Display: true, CauseCancel: recommendation == "cancel",
		Message: msg, MerchantMessage: msg,
	}}
	return true
}

func (s *Server) listRisks(orderID int64) reply {
	rec, ok := s.orders[orderID]
	if !ok {
		return notFound()
	}
	return jsonReply(http.StatusOK, map[string][]Risk{"risks": nonNil(clone(rec.risks))})
}

func (s *Server) getShop() reply {
	name := s.shop
	if i := len(name) - len(".myshopify.com"); i > 0 && name[i:] == ".myshopify.com" {
		name = name[:i]
	}
	plan := "basic"
	if !s.bucket.unlimited && s.bucket.size >= 400 {
		plan = "shopify_plus"
	}
	return jsonReply(http.StatusOK, map[string]any{"shop": map[string]any{
		"id":                  shopID,
		"name":                name,
		"domain":              s.shop,
		"myshopify_domain":    s.shop,
		"email":               "owner@example.com",
		"currency":            "USD",
		"country_code":        "US",
		"timezone":            "(GMT+00:00) UTC",
		"iana_timezone":       "UTC",
		"primary_locale":      "en",
		"primary_location_id": locationID,
		"plan_name":           plan,
		"plan_display_name":   map[string]string{"basic": "Basic", "shopify_plus": "Shopify Plus"}[plan],
		"taxes_included":      false,
		"tax_shipping":        true,
		"weight_unit":         "kg",
		"created_at":          time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC),
		"updated_at":          time.Date(2025, 11, 20, 12, 0, 0, 0, time.UTC),
		"money_format":        "${{amount}}",
		"has_storefront":      true,
		"password_enabled":    false,
		"setup_required":      false,
	}})
}
