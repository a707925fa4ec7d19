#!/bin/sh
# Test exec credential plugin that prints something other than JSON.
echo "Please log in at https://login.example"
