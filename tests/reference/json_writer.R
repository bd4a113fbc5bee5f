# A minimal JSON writer shared by the reference scripts (keeps them free of packages beyond survival).
# Expects `here` (the output folder) to be set by the script that sources it.

json_value <- function(x, indent) {
  pad <- strrep("  ", indent)
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (length(x) == 0) return("{}")
    keys <- names(x)
    inner <- vapply(seq_along(x), function(i) {
      paste0(pad, "  \"", keys[i], "\": ", json_value(x[[i]], indent + 1))
    }, character(1))
    return(paste0("{\n", paste(inner, collapse = ",\n"), "\n", pad, "}"))
  }
  if (is.character(x)) {
    v <- paste0("\"", x, "\"")
  } else if (is.logical(x)) {
    v <- ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else {
    x <- as.numeric(x)
    v <- ifelse(is.finite(x), sprintf("%.17g", x), "null")
  }
  if (length(v) == 1 && is.null(attr(x, "array"))) v else paste0("[", paste(v, collapse = ", "), "]")
}
arr <- function(x) structure(as.vector(x), array = TRUE)  # always a JSON array, even of length 1
write_json <- function(x, name) {
  writeLines(json_value(x, 0), file.path(here, paste0(name, ".json")))
}

