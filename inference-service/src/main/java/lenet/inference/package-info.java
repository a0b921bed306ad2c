/** The inference service. */
package lenet.inference;
