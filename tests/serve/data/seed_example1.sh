#!/bin/bash

# Submit translation request
response=$(curl -s -X POST http://localhost:8001/api/v1/workflows/translate \
  -H "Content-Type: application/json" \
  -d '{
    "natural_language": "Load iris.csv and create a scatter plot of sepal length vs width",
    "priority": 7
  }')

token=$(echo $response | jq -r '.token')
echo "Translation token: $token"

# Poll for completion
while true; do
  status_response=$(curl -s http://localhost:8001/api/v1/translation/$token)
  status=$(echo $status_response | jq -r '.status')
  
  echo "Status: $status"
  
  if [ "$status" = "done" ]; then
    dsl=$(echo $status_response | jq -r '.dsl')
    echo "Translation complete!"
    break
  elif [ "$status" = "error" ] || [ "$status" = "timeout" ]; then
    echo "Translation failed: $status"
    exit 1
  fi
  
  sleep 2
done

# Execute the generated DSL
curl -X POST http://localhost:8001/api/v1/workflows/dsl \
  -H "Content-Type: application/json" \
  -d "{\"dsl_yaml\": $(echo $dsl | jq -R .)}"
