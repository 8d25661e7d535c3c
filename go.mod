module github.com/twofa-go/twofa

go 1.26.0
