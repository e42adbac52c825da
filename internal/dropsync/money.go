package dropsync

import (
	"github.com/shopspring/decimal"
)

// Money is an amount with its ISO 4217 currency. Amounts are decimal, never float.
type Money struct {
	Amount   decimal.Decimal `json:"amount"`
	Currency string          `json:"currency"`
}

// NewMoney parses a decimal string amount.
func NewMoney(amount, currency string) (Money, error) {
	d, err := decimal.NewFromString(amount)
	if err != nil {
		return Money{}, Errorf(EINVALID, "amount %q is not a decimal number", amount)
	}
	return Money{Amount: d, Currency: currency}, nil
}

// IsZero reports whether the money has no amount.
func (m Money) IsZero() bool { return m.Amount.IsZero() }

// String formats the money as "4.20 USD".
func (m Money) String() string { return m.Amount.StringFixed(2) + " " + m.Currency }
