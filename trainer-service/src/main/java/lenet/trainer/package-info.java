/** The trainer service. */
package lenet.trainer;
